"""Composition root of the hours service (API and worker)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from hours.adapters import mongo
from hours.adapters.files import FileStore
from hours.adapters.repositories import Teachers
from hours.entrypoints.batch_consumer import BatchConsumer
from hours.service_layer.batch import BatchHandlers
from hours.service_layer.complaints import Complaints
from hours.service_layer.crediting import BatchCrediting, HoursBank
from hours.service_layer.declarations import Declarations
from hours.service_layer.handlers import register_handlers
from hours.service_layer.points import BatchAwards, PointsBank
from hours.service_layer.queries import HoursQueries
from hours.service_layer.registrations import Registrations
from hours.service_layer.rules import RulesService
from hours.service_layer.verification import VerificationService
from hours.settings import Settings
from jijiao_contracts.events import hours as hours_events
from jijiao_kit.auth import TokenVerifier, verifier_from_settings
from jijiao_kit.clock import Clock, SystemClock
from jijiao_kit.consuming import EventDispatcher
from jijiao_kit.jobs import PeriodicJob
from jijiao_kit.logging import configure_logging
from jijiao_kit.messaging import declare_topology
from jijiao_kit.runtime import Infrastructure
from jijiao_kit.service import produced_events, service_api
from jijiao_kit.worker import Worker


@dataclass
class Container:
    settings: Settings
    infra: Infrastructure
    verifier: TokenVerifier
    clock: Clock
    files: FileStore
    teachers: Teachers
    rules: RulesService
    bank: HoursBank
    points: PointsBank
    registrations: Registrations
    declarations: Declarations
    verification: VerificationService
    complaints: Complaints
    queries: HoursQueries

    def set_clock(self, clock: Clock) -> None:
        """Tests move time (year boundaries) for every use case at once."""
        self.clock = clock
        self.points.clock = clock
        self.complaints.clock = clock


def build(settings: Settings | None = None, clock: Clock | None = None) -> Container:
    settings = settings or Settings()
    infra = Infrastructure.from_settings(settings)
    db = infra.db
    clock = clock or SystemClock()
    files = FileStore(settings.attachments_dir, max_bytes=settings.max_attachment_bytes)
    teachers = Teachers(db)
    rules = RulesService(db)
    bank = HoursBank(db, rules)
    points = PointsBank(db, rules, bank, clock)
    verification = VerificationService(db, teachers, rules)
    return Container(
        settings=settings,
        infra=infra,
        verifier=verifier_from_settings(settings),
        clock=clock,
        files=files,
        teachers=teachers,
        rules=rules,
        bank=bank,
        points=points,
        registrations=Registrations(db, teachers, bank, rules),
        declarations=Declarations(db, teachers, bank, rules, files, max_files=settings.max_attachments),
        verification=verification,
        complaints=Complaints(db, teachers, rules, clock),
        queries=HoursQueries(teachers, bank, verification),
    )


def create_api(container: Container | None = None) -> FastAPI:
    from hours.entrypoints.api.routers import (
        admin,
        complaints,
        declarations,
        hours,
        points,
        registrations,
        rules,
        verifications,
    )

    container = container or build()
    return service_api(
        container=container,
        infra=container.infra,
        verifier=container.verifier,
        title="jijiao hours",
        description="Hours bank (学时银行) and points bank (积分银行).",
        routers=[
            hours.router,
            registrations.router,
            points.router,
            declarations.router,
            verifications.router,
            rules.router,
            complaints.router,
            admin.router,
        ],
        ensure_indexes=lambda: mongo.ensure_indexes(container.infra.db),
    )


def create_worker(container: Container | None = None) -> Worker:
    """The worker: outbox relay, jobs, and the queue consumer (batched unless ``CONSUMER_BATCH_SIZE=0``,
    which selects the kit's one-message-at-a-time subscriber; both apply the same keyed effects)."""
    container = container or build()
    settings = container.settings
    configure_logging("hours-worker", settings.log_level, settings.log_json)
    dispatcher = EventDispatcher()
    register_handlers(dispatcher, container.teachers, container.bank, container.points, container.declarations)
    batched = settings.consumer_batch_size > 0
    consumer: BatchConsumer | None = None
    worker: Worker

    async def startup() -> None:
        nonlocal consumer
        await mongo.ensure_indexes(container.infra.db)
        if batched:
            await declare_topology(
                worker.broker,
                settings.topology,
                service=settings.service_name,
                routing_keys=dispatcher.routing_keys(),
                delivery_limit=settings.delivery_limit,
            )
            handlers = BatchHandlers(container.teachers, BatchCrediting(container.bank), BatchAwards(container.points))
            consumer = BatchConsumer(
                settings.rabbitmq_url,
                settings.topology,
                settings.service_name,
                handlers,
                dispatcher,
                worker.inbox,
                batch_size=settings.consumer_batch_size,
            )
            await consumer.start()

    async def shutdown() -> None:
        if consumer is not None:
            await consumer.stop()

    worker = Worker(
        container.infra,
        EventDispatcher() if batched else dispatcher,
        title="jijiao hours worker",
        outbox_collections=mongo.OUTBOX_COLLECTIONS,
        produces=produced_events(hours_events),
        jobs=[
            PeriodicJob("expire-points", container.settings.expiry_interval_seconds, container.points.expire),
            PeriodicJob(
                "complete-pending-entries", container.settings.repair_interval_seconds, container.bank.complete_pending
            ),
        ],
        on_startup=[startup],
    )
    worker.app.on_shutdown(shutdown)
    worker.dispatcher = dispatcher  # what the service consumes, whichever consumer runs
    return worker
