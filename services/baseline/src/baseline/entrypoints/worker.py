"""Worker entry point: ``python -m baseline.entrypoints.worker`` (``--asyncapi`` prints its document).

The worker: the outbox relay, the queue consumer (one event at a time) and the scheduled jobs
(outcome reminders, reservation repair)."""

from __future__ import annotations

import sys

from baseline.adapters import mongo
from baseline.bootstrap import Container, build
from baseline.service_layer.handlers import register_handlers
from jijiao_contracts.events import baseline as baseline_events
from jijiao_kit.batching import Consuming
from jijiao_kit.consuming import EventDispatcher, Inbox
from jijiao_kit.jobs import PeriodicJob
from jijiao_kit.logging import configure_logging
from jijiao_kit.service import produced_events
from jijiao_kit.worker import Worker, run_worker

#: How often the worker looks for trainees to remind of their outcome report (and who became overdue).
OUTCOME_JOB_INTERVAL_SECONDS = 3600.0
#: How often the worker gives back places held by a request that died between its two writes.
REPAIR_JOB_INTERVAL_SECONDS = 30.0


def create_worker(container: Container | None = None) -> Worker:
    container = container or build()
    configure_logging("baseline-worker", container.settings.log_level, container.settings.log_json)
    dispatcher = EventDispatcher()
    register_handlers(dispatcher, container.directory)

    async def startup() -> None:
        await mongo.ensure_indexes(container.infra.db)

    return Worker(
        container.infra,
        title="jijiao baseline worker",
        consuming=Consuming.one_by_one(dispatcher, Inbox(container.infra.db)),
        outbox_collections=mongo.OUTBOX_COLLECTIONS,
        produces=produced_events(baseline_events),
        on_startup=[startup],
        jobs=[
            PeriodicJob("baseline.outcome_reminders", OUTCOME_JOB_INTERVAL_SECONDS, container.outcomes.remind),
            PeriodicJob("baseline.repair_holds", REPAIR_JOB_INTERVAL_SECONDS, container.repair.run),
        ],
    )


if __name__ == "__main__":
    worker = create_worker()
    if "--asyncapi" in sys.argv:
        print(worker.asyncapi_json())
    else:
        run_worker(worker)
