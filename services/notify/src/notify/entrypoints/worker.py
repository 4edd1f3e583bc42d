"""Worker entry point: ``python -m notify.entrypoints.worker`` (``--asyncapi`` prints its document).

The worker: the outbox relay, the delivery and reminder jobs, and the queue consumer, in batches of
``CONSUMER_BATCH_SIZE`` (contact-book facts event by event, the routed notices of a batch in bulk).
Its container is built with the worker's broker (finished notices publish their events through it,
new notices due now go straight to delivery)."""

from __future__ import annotations

import sys
from typing import Any

from jijiao_contracts.events import notify as notify_events
from jijiao_kit.batching import BatchInbox, Consuming
from jijiao_kit.consuming import EventDispatcher, Inbox
from jijiao_kit.jobs import PeriodicJob
from jijiao_kit.logging import configure_logging
from jijiao_kit.service import produced_events
from jijiao_kit.worker import Worker, run_worker, worker_broker
from notify.adapters import mongo
from notify.bootstrap import Container, build
from notify.service_layer.batch import NoticeBatches
from notify.service_layer.handlers import register_fact_handlers
from notify.settings import Settings


def worker_container(settings: Settings | None = None, **parts: Any) -> Container:
    """The worker's container: ``build`` with the worker's broker connection (and any ``parts`` of
    ``build``: a clock, channels)."""
    settings = settings or Settings()
    return build(settings, broker=worker_broker(settings), **parts)


def create_worker(container: Container | None = None) -> Worker:
    container = container or worker_container()
    if container.broker is None:
        raise ValueError("notify's worker needs the worker's container (worker_container), built with its broker")
    settings = container.settings
    configure_logging("notify-worker", settings.log_level, settings.log_json)
    facts = EventDispatcher()
    register_fact_handlers(facts, container.contacts, container.terms)
    db = container.infra.db
    inbox = Inbox(db, liveness=container.liveness)
    batches = NoticeBatches(facts, inbox, BatchInbox(db), container.notifier, contacts=container.contacts)

    async def startup() -> None:
        await mongo.ensure_indexes(db)

    return Worker(
        container.infra,
        title="jijiao notify worker",
        broker=container.broker,
        consuming=Consuming.in_batches(
            batches,
            batches.routing_keys(),
            batch_size=max(1, settings.consumer_batch_size),
            linger_seconds=settings.consumer_linger_seconds,
            inboxes=[inbox],
        ),
        outbox_collections=mongo.OUTBOX_COLLECTIONS,
        produces=produced_events(notify_events),
        jobs=[
            PeriodicJob("notify.deliver", settings.delivery_interval_seconds, container.delivery.drain),
            PeriodicJob(
                "notify.selection_reminders", settings.reminder_interval_seconds, container.reminders.selection_windows
            ),
        ],
        on_startup=[startup, container.delivery.start_sending],
        on_shutdown=[container.delivery.stop_sending, container.delivery.release_handed],
        liveness=container.liveness,
    )


if __name__ == "__main__":
    worker = create_worker()
    if "--asyncapi" in sys.argv:
        print(worker.asyncapi_json())
    else:
        run_worker(worker)
