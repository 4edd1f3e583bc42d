"""Worker entry point: ``python -m studio.entrypoints.worker`` (``--asyncapi`` prints its document).

The worker: the outbox relay and the queue consumer (one event at a time)."""

from __future__ import annotations

import sys

from jijiao_contracts.events import studio as studio_events
from jijiao_kit.batching import Consuming
from jijiao_kit.consuming import EventDispatcher, Inbox
from jijiao_kit.jobs import PeriodicJob
from jijiao_kit.logging import configure_logging
from jijiao_kit.service import produced_events
from jijiao_kit.worker import Worker, run_worker
from studio.adapters import mongo
from studio.bootstrap import Container, build
from studio.service_layer.handlers import register_handlers


def create_worker(container: Container | None = None) -> Worker:
    container = container or build()
    configure_logging("studio-worker", container.settings.log_level, container.settings.log_json)
    dispatcher = EventDispatcher()
    register_handlers(dispatcher, container.directory)

    async def startup() -> None:
        await mongo.ensure_indexes(container.infra.db)

    return Worker(
        container.infra,
        title="jijiao studio worker",
        consuming=Consuming.one_by_one(dispatcher, Inbox(container.infra.db)),
        outbox_collections=mongo.OUTBOX_COLLECTIONS,
        produces=produced_events(studio_events),
        on_startup=[startup],
        jobs=[
            PeriodicJob("studio.remind_summaries", 60.0, container.activities.remind_summaries),
            # crash repair of seats taken for applications never marked admitted (runs at start too)
            PeriodicJob("studio.repair_seats", 30.0, container.recruitment.repair_seats),
            # crash repair of organised workshop activities never counted as real activities (once by id)
            PeriodicJob("studio.repair_real_activities", 60.0, container.workshop_activities.repair_real_activities),
        ],
    )


if __name__ == "__main__":
    worker = create_worker()
    if "--asyncapi" in sys.argv:
        print(worker.asyncapi_json())
    else:
        run_worker(worker)
