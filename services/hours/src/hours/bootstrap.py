"""Composition root of the hours service (API and worker)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import FastAPI

from hours.adapters import mongo
from hours.adapters.complaints import ComplaintRepository
from hours.adapters.declarations import DeclarationRepository
from hours.adapters.files import FileStore
from hours.adapters.ledger import Ledger
from hours.adapters.points_accounts import PointsAccounts
from hours.adapters.registrations import RegistrationRepository
from hours.adapters.repositories import Teachers
from hours.adapters.rules import RulesRepository
from hours.adapters.teacher_years import TeacherYears
from hours.adapters.verifications import VerificationRepository
from hours.service_layer.batch import BatchHandlers
from hours.service_layer.complaints import Complaints
from hours.service_layer.crediting import BatchCrediting, HoursBank
from hours.service_layer.declarations import Declarations
from hours.service_layer.handlers import register_handlers
from hours.service_layer.jobs import AdminJobs
from hours.service_layer.points import BatchAwards, PointsBank
from hours.service_layer.queries import HoursQueries
from hours.service_layer.registrations import Registrations
from hours.service_layer.rules import RulesService
from hours.service_layer.teacher_points import TeacherPoints
from hours.service_layer.verification import VerificationService
from hours.settings import Settings
from jijiao_contracts import Envelope
from jijiao_contracts.events import hours as hours_events
from jijiao_kit.auth import TokenVerifier, verifier_from_settings
from jijiao_kit.batching import attach_batch_consumer
from jijiao_kit.clock import Clock, SystemClock
from jijiao_kit.consuming import EventDispatcher, Inbox
from jijiao_kit.jobs import PeriodicJob
from jijiao_kit.logging import configure_logging
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
    teacher_points: TeacherPoints
    jobs: AdminJobs

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
    rules = RulesService(RulesRepository(db))
    bank = HoursBank(TeacherYears(db), Ledger(db), rules)
    points = PointsBank(PointsAccounts(db), rules, bank, clock)
    verification = VerificationService(VerificationRepository(db), teachers, rules)
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
        registrations=Registrations(RegistrationRepository(db), teachers, bank, rules, files),
        declarations=Declarations(
            DeclarationRepository(db), teachers, bank, rules, files, max_files=settings.max_attachments
        ),
        verification=verification,
        complaints=Complaints(ComplaintRepository(db), teachers, rules, clock),
        queries=HoursQueries(teachers, bank, verification, rules),
        teacher_points=TeacherPoints(teachers, points),
        jobs=AdminJobs(points, bank),
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


class _BatchAdapter:
    """The kit's batch consumer hands envelopes; hours' handlers also need the dispatcher and inbox
    for the low-volume events they route one at a time."""

    def __init__(self, handlers: BatchHandlers, dispatcher: EventDispatcher, inbox: Inbox) -> None:
        self.handlers = handlers
        self.dispatcher = dispatcher
        self.inbox = inbox

    async def handle_batch(self, envelopes: Sequence[Envelope]) -> None:
        await self.handlers.handle(list(envelopes), self.dispatcher, self.inbox)


def create_worker(container: Container | None = None) -> Worker:
    """The worker: outbox relay, jobs, and the queue consumer (batched unless ``CONSUMER_BATCH_SIZE=0``,
    which selects the kit's one-message-at-a-time subscriber; both apply the same keyed effects)."""
    container = container or build()
    settings = container.settings
    configure_logging("hours-worker", settings.log_level, settings.log_json)
    dispatcher = EventDispatcher()
    register_handlers(dispatcher, container.teachers, container.bank, container.points, container.declarations)
    batched = settings.consumer_batch_size > 0

    async def startup() -> None:
        await mongo.ensure_indexes(container.infra.db)

    worker = Worker(
        container.infra,
        EventDispatcher() if batched else dispatcher,
        title="jijiao hours worker",
        outbox_collections=mongo.OUTBOX_COLLECTIONS,
        produces=produced_events(hours_events),
        jobs=[
            PeriodicJob("expire-points", container.settings.expiry_interval_seconds, container.points.expire),
            PeriodicJob(
                "remind-expiring-points", container.settings.expiry_interval_seconds, container.points.remind_expiring
            ),
            PeriodicJob(
                "complete-pending-entries", container.settings.repair_interval_seconds, container.bank.complete_pending
            ),
        ],
        on_startup=[startup],
    )
    if batched:
        handlers = BatchHandlers(container.teachers, BatchCrediting(container.bank), BatchAwards(container.points))
        attach_batch_consumer(
            worker,
            _BatchAdapter(handlers, dispatcher, worker.inbox),
            routing_keys=dispatcher.routing_keys(),
            batch_size=settings.consumer_batch_size,
        )
    worker.dispatcher = dispatcher  # what the service consumes, whichever consumer runs
    return worker
