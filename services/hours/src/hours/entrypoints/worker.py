"""Worker entry point: ``python -m hours.entrypoints.worker`` (``--asyncapi`` prints its document).

The worker: the outbox relay, the points and repair jobs, and the queue consumer, in batches of
``CONSUMER_BATCH_SIZE`` (results and roster events come in storms): the high-volume events with bulk
writes, the rest through the dispatcher's handlers and the inbox."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from hours.adapters import mongo
from hours.bootstrap import Container, build
from hours.service_layer.batch import BULK_ONLY, BatchHandlers
from hours.service_layer.crediting import BatchCrediting
from hours.service_layer.handlers import register_handlers
from hours.service_layer.points import BatchAwards
from jijiao_contracts import Envelope
from jijiao_contracts.events import hours as hours_events
from jijiao_kit.batching import Consuming
from jijiao_kit.consuming import EventDispatcher, Inbox
from jijiao_kit.jobs import PeriodicJob
from jijiao_kit.logging import configure_logging
from jijiao_kit.service import produced_events
from jijiao_kit.worker import Worker, run_worker


class _Batches:
    """The consumer's handler: hours' batch handlers with the dispatcher and inbox for the
    low-volume events they route one at a time."""

    def __init__(self, handlers: BatchHandlers, dispatcher: EventDispatcher, inbox: Inbox) -> None:
        self.handlers = handlers
        self.dispatcher = dispatcher
        self.inbox = inbox

    async def handle_batch(self, envelopes: Sequence[Envelope]) -> None:
        await self.handlers.handle(list(envelopes), self.dispatcher, self.inbox)


def create_worker(container: Container | None = None) -> Worker:
    container = container or build()
    settings = container.settings
    configure_logging("hours-worker", settings.log_level, settings.log_json)
    dispatcher = EventDispatcher()
    register_handlers(dispatcher, container.teachers, container.bank, container.points, container.declarations)
    inbox = Inbox(container.infra.db)
    batches = _Batches(
        BatchHandlers(container.teachers, BatchCrediting(container.bank), BatchAwards(container.points)),
        dispatcher,
        inbox,
    )

    async def startup() -> None:
        await mongo.ensure_indexes(container.infra.db)

    return Worker(
        container.infra,
        title="jijiao hours worker",
        consuming=Consuming.in_batches(
            batches,
            [*dispatcher.routing_keys(), *BULK_ONLY],
            batch_size=max(1, settings.consumer_batch_size),
            inboxes=[inbox],
        ),
        outbox_collections=mongo.OUTBOX_COLLECTIONS,
        produces=produced_events(hours_events),
        jobs=[
            PeriodicJob("expire-points", settings.expiry_interval_seconds, container.points.expire),
            PeriodicJob("remind-expiring-points", settings.expiry_interval_seconds, container.points.remind_expiring),
            PeriodicJob("complete-pending-entries", settings.repair_interval_seconds, container.bank.complete_pending),
        ],
        on_startup=[startup],
    )


if __name__ == "__main__":
    worker = create_worker()
    if "--asyncapi" in sys.argv:
        print(worker.asyncapi_json())
    else:
        run_worker(worker)
