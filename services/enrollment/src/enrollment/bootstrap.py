"""Composition root: builds enrollment for the API process and for the worker process alike."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from starlette.middleware import Middleware

from enrollment.adapters import mongo
from enrollment.adapters.ability_repository import AbilityRepository
from enrollment.adapters.announcement_repository import AnnouncementRepository
from enrollment.adapters.billing_repository import BillRepository
from enrollment.adapters.captcha import CaptchaStore
from enrollment.adapters.catalogue_repository import CourseRepository
from enrollment.adapters.passwords import PasswordHasher
from enrollment.adapters.repositories import AccountRepository, SchoolRepository, TeacherRepository
from enrollment.adapters.results_repository import ResultRepository
from enrollment.adapters.school_courses_repository import SchoolCourseRepository
from enrollment.adapters.selection_idempotency import IdempotencyStore
from enrollment.adapters.selection_projects_repository import ApplicationRepository
from enrollment.adapters.selection_repository import CartRepository, SelectionRepository
from enrollment.adapters.special_users_repository import SpecialUserRepository
from enrollment.adapters.statistics_repository import StatisticsRepository
from enrollment.adapters.terms_repository import TermRepository
from enrollment.adapters.transfer_repository import SelectionLedger, TransferRepository
from enrollment.service_layer.ability import AbilityService
from enrollment.service_layer.accounts import AccountService
from enrollment.service_layer.announcements import AnnouncementService
from enrollment.service_layer.auth import AuthService
from enrollment.service_layer.billing import BillingService
from enrollment.service_layer.billing_handlers import BillsFollowSelections
from enrollment.service_layer.catalogue import CatalogueService
from enrollment.service_layer.programme_accounts import (
    EXPIRY_JOB_INTERVAL_SECONDS,
    CombinedBatches,
    programme_accounts_for,
)
from enrollment.service_layer.results import ResultsService
from enrollment.service_layer.roster import RosterService
from enrollment.service_layer.school_courses import SchoolCourseService
from enrollment.service_layer.selection import SelectionService
from enrollment.service_layer.selection_projects import ProjectService
from enrollment.service_layer.special_users import SpecialUserService
from enrollment.service_layer.statistics import StatisticsService
from enrollment.service_layer.terms import TermService
from enrollment.service_layer.transfers import TransferService
from enrollment.settings import Settings
from jijiao_contracts.events import enrollment as enrollment_events
from jijiao_kit.auth import TokenIssuer, TokenVerifier, load_or_create_keypair
from jijiao_kit.batching import attach_batch_consumer
from jijiao_kit.clock import Clock, SystemClock
from jijiao_kit.consuming import EventDispatcher
from jijiao_kit.jobs import PeriodicJob
from jijiao_kit.logging import configure_logging
from jijiao_kit.runtime import Infrastructure
from jijiao_kit.service import produced_events, service_api
from jijiao_kit.worker import Worker

#: E3: how often the worker looks for terms to bill and payment deadlines that passed.
E3_JOB_INTERVAL_SECONDS = 60.0


@dataclass
class Container:
    settings: Settings
    infra: Infrastructure
    clock: Clock
    hasher: PasswordHasher
    issuer: TokenIssuer
    verifier: TokenVerifier
    schools: SchoolRepository
    teachers: TeacherRepository
    accounts: AccountRepository
    roster: RosterService
    auth: AuthService
    transfers: TransferService  # E1
    account_service: AccountService  # E1
    # E2: terms, catalogue, selection, ability project
    term_service: TermService
    catalogue_service: CatalogueService
    selection_service: SelectionService
    selection_idempotency: IdempotencyStore
    course_repository: CourseRepository
    selection_repository: SelectionRepository
    ability_service: AbilityService
    project_service: ProjectService
    billing: BillingService
    results: ResultsService
    special_users: SpecialUserService
    statistics: StatisticsService
    school_courses: SchoolCourseService
    announcements: AnnouncementService


def build(settings: Settings | None = None, *, clock: Clock | None = None) -> Container:
    settings = settings or Settings()
    infra = Infrastructure.from_settings(settings)
    if settings.jwt_private_key and settings.jwt_public_key:
        private_pem, public_pem = settings.jwt_private_key.encode(), settings.jwt_public_key.encode()
    else:
        keys = load_or_create_keypair(settings.keys_dir, "auth")
        private_pem, public_pem = keys.private_pem, keys.public_pem
    issuer = TokenIssuer(
        private_pem,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=settings.access_token_ttl_seconds,
    )
    # Tokens of accounts that still have their initial password reach the password gate, which lets
    # them change it (the other services refuse them outright).
    verifier = TokenVerifier(
        public_pem, issuer=settings.jwt_issuer, audience=settings.jwt_audience, refuse_initial_password=False
    )
    clock = clock or SystemClock()
    hasher = PasswordHasher()
    schools = SchoolRepository(infra.db)
    teachers = TeacherRepository(infra.db)
    accounts = AccountRepository(infra.db)

    async def next_sequence(name: str) -> int:
        return await mongo.next_sequence(infra.db, name)

    # E2: terms, catalogue, selection
    term_service = TermService(TermRepository(infra.db), clock)
    course_repository = CourseRepository(infra.db)
    selection_repository = SelectionRepository(infra.db)
    selection_service = SelectionService(
        term_service, course_repository, selection_repository, teachers, CartRepository(infra.db), clock
    )
    results = ResultsService(ResultRepository(infra.db), clock)
    ability_service = AbilityService(AbilityRepository(infra.db), term_service, selection_service, results, clock)
    project_service = ProjectService(ApplicationRepository(infra.db), selection_service, clock)
    # E3: school-based courses reuse E2's selection path (same invariants) and the results rules
    school_courses = SchoolCourseService(
        SchoolCourseRepository(infra.db), teachers, selection_service, results, clock, next_sequence
    )
    return Container(
        term_service=term_service,
        ability_service=ability_service,
        project_service=project_service,
        catalogue_service=CatalogueService(term_service, course_repository, selection_repository, teachers, clock),
        selection_service=selection_service,
        selection_idempotency=IdempotencyStore.from_url(settings.redis_url, settings.redis_prefix),
        course_repository=course_repository,
        selection_repository=selection_repository,
        settings=settings,
        infra=infra,
        clock=clock,
        hasher=hasher,
        issuer=issuer,
        verifier=verifier,
        schools=schools,
        teachers=teachers,
        accounts=accounts,
        roster=RosterService(schools, teachers, hasher, clock, next_sequence),
        auth=AuthService(
            accounts,
            teachers,
            hasher,
            issuer,
            max_failed_logins=settings.max_failed_logins,
            schools=schools,
            captchas=CaptchaStore(infra.redis, f"{settings.redis_prefix}captcha:"),
            captcha_after_failures=settings.captcha_after_failures,
        ),
        transfers=TransferService(TransferRepository(infra.db), teachers, schools, SelectionLedger(infra.db), clock),
        account_service=AccountService(accounts, hasher, clock, teachers=teachers, schools=schools),
        billing=BillingService(BillRepository(infra.db), clock, next_sequence),
        results=results,
        school_courses=school_courses,
        special_users=SpecialUserService(SpecialUserRepository(infra.db), teachers, clock),
        statistics=StatisticsService(StatisticsRepository(infra.db)),
        announcements=AnnouncementService(AnnouncementRepository(infra.db), clock),
    )


def create_api(container: Container | None = None) -> FastAPI:
    from enrollment.entrypoints.api.password_gate import PasswordChangeGate
    from enrollment.entrypoints.api.routers import (
        ability,
        admins,
        announcements,
        auth,
        catalogue,
        schools,
        selection,
        selection_projects,
        teachers,
        terms,
        transfers,
    )
    from enrollment.entrypoints.api.routers import billing as billing_routes
    from enrollment.entrypoints.api.routers import results as results_routes
    from enrollment.entrypoints.api.routers import school_courses as school_course_routes
    from enrollment.entrypoints.api.routers import special_users as special_user_routes
    from enrollment.entrypoints.api.routers import statistics as statistics_routes

    container = container or build()
    app = service_api(
        container=container,
        infra=container.infra,
        verifier=container.verifier,
        title="jijiao enrollment",
        description="Roster, accounts and login, terms, catalogue, selection, bills, results (继教 选课与缴费).",
        routers=[
            terms.router,
            catalogue.router,
            selection.router,
            ability.router,
            selection_projects.router,
            auth.router,
            schools.router,
            teachers.router,
            transfers.router,
            admins.router,
            billing_routes.router,
            results_routes.router,
            special_user_routes.router,
            statistics_routes.router,
            school_course_routes.router,
            announcements.router,
        ],
        ensure_indexes=lambda: mongo.ensure_indexes(container.infra.db),
    )
    # Initial passwords must be changed before anything else (only enrollment issues tokens). Innermost,
    # so its refusals carry the correlation id and are counted like every other answer.
    app.user_middleware.append(
        Middleware(PasswordChangeGate, verifier=container.verifier, still_required=container.auth.must_change_password)
    )
    return app


def create_worker(container: Container | None = None) -> Worker:
    container = container or build()
    configure_logging("enrollment-worker", container.settings.log_level, container.settings.log_json)
    # The service's one queue is read in batches (selection events come in storms); the kit's
    # one-at-a-time subscriber stays unattached, so the dispatcher is empty.
    dispatcher = EventDispatcher()
    bills_follow = BillsFollowSelections(container.billing)  # bills follow late additions and deletions
    # research-base programme logins (baseline's zone contacts and trainees)
    programme = programme_accounts_for(
        container.infra.db, container.hasher, container.clock, container.settings.keys_dir
    )

    async def startup() -> None:
        await mongo.ensure_indexes(container.infra.db)

    worker = Worker(
        container.infra,
        dispatcher,
        title="jijiao enrollment worker",
        outbox_collections=mongo.OUTBOX_COLLECTIONS,
        produces=produced_events(enrollment_events),
        on_startup=[startup],
        jobs=[
            PeriodicJob("enrollment.issue_bills", E3_JOB_INTERVAL_SECONDS, container.billing.issue_due_bills),
            PeriodicJob(
                "enrollment.flag_special_users", E3_JOB_INTERVAL_SECONDS, container.special_users.flag_due_terms
            ),
            PeriodicJob(
                "enrollment.expire_initial_secrets", EXPIRY_JOB_INTERVAL_SECONDS, programme.expire_initial_secrets
            ),
        ],
    )
    consumer = CombinedBatches(bills_follow, programme)
    attach_batch_consumer(worker, consumer, routing_keys=consumer.routing_keys, batch_size=200)
    return worker
