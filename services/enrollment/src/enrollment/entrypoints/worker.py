"""Worker entry point: ``python -m enrollment.entrypoints.worker`` (``--asyncapi`` prints its document).

The worker: the outbox relay, the billing jobs and the queue consumer (in batches: selection events
come in storms; bills follow late additions and deletions)."""

from __future__ import annotations

import sys

from enrollment.adapters import mongo
from enrollment.bootstrap import Container, build
from enrollment.service_layer.billing_handlers import BillsFollowSelections
from enrollment.service_layer.programme_accounts import EXPIRY_JOB_INTERVAL_SECONDS, CombinedBatches
from jijiao_contracts.events import enrollment as enrollment_events
from jijiao_kit.batching import Consuming
from jijiao_kit.jobs import PeriodicJob
from jijiao_kit.logging import configure_logging
from jijiao_kit.service import produced_events
from jijiao_kit.worker import Worker, run_worker

#: How often the worker looks for terms to bill, payment deadlines that passed and special users.
BILLING_JOB_INTERVAL_SECONDS = 60.0


def create_worker(container: Container | None = None) -> Worker:
    container = container or build()
    configure_logging("enrollment-worker", container.settings.log_level, container.settings.log_json)
    bills_follow = BillsFollowSelections(container.billing)  # bills follow late additions and deletions
    # research-base programme logins (baseline's zone contacts and trainees)
    programme = container.programme_accounts
    consumer = CombinedBatches(bills_follow, programme)

    async def startup() -> None:
        await mongo.ensure_indexes(container.infra.db)

    return Worker(
        container.infra,
        title="jijiao enrollment worker",
        consuming=Consuming.in_batches(consumer, consumer.routing_keys, batch_size=200),
        outbox_collections=mongo.OUTBOX_COLLECTIONS,
        produces=produced_events(enrollment_events),
        on_startup=[startup],
        jobs=[
            PeriodicJob("enrollment.issue_bills", BILLING_JOB_INTERVAL_SECONDS, container.billing.issue_due_bills),
            PeriodicJob(
                "enrollment.flag_special_users", BILLING_JOB_INTERVAL_SECONDS, container.special_users.flag_due_terms
            ),
            PeriodicJob(
                "enrollment.expire_initial_secrets", EXPIRY_JOB_INTERVAL_SECONDS, programme.expire_initial_secrets
            ),
        ],
    )


if __name__ == "__main__":
    worker = create_worker()
    if "--asyncapi" in sys.argv:
        print(worker.asyncapi_json())
    else:
        run_worker(worker)
