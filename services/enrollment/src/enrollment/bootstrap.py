"""Composition root: builds enrollment's container (repositories, services, clock) for the API process
and the worker process alike; ``entrypoints/api/app.py`` builds the HTTP app from it."""

from __future__ import annotations

from dataclasses import dataclass

from enrollment.adapters import mongo
from enrollment.adapters.ability_repository import AbilityRepository
from enrollment.adapters.announcement_repository import AnnouncementRepository
from enrollment.adapters.billing_repository import BillRepository
from enrollment.adapters.captcha import CaptchaStore
from enrollment.adapters.catalogue_repository import CourseRepository
from enrollment.adapters.passwords import PasswordHasher
from enrollment.adapters.programme_accounts_repository import ProgrammeAccountRepository
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
from enrollment.service_layer.catalogue import CatalogueService
from enrollment.service_layer.programme_accounts import ProgrammeAccounts
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
from jijiao_kit.auth import (
    TokenIssuer,
    TokenVerifier,
    TokenVersions,
    load_or_create_keypair,
    revocation_ttl,
    token_version_namespace,
)
from jijiao_kit.clock import Clock, SystemClock
from jijiao_kit.ratelimit import RateLimits
from jijiao_kit.runtime import Infrastructure
from jijiao_kit.sealing import NOTIFY_CREDENTIALS_KEY, load_public_sealing_key

#: How often the worker looks for terms to bill and payment deadlines that passed.


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
    transfers: TransferService
    account_service: AccountService
    # terms, catalogue, selection, the ability project
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
    token_versions: TokenVersions
    # research-base programme logins (baseline's zone contacts and trainees): the worker's handler
    # of baseline's events and the credentials endpoints
    programme_accounts: ProgrammeAccounts


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
    token_versions = TokenVersions(
        infra.redis,
        token_version_namespace(settings.name_prefix),
        ttl_seconds=revocation_ttl(settings.access_token_ttl_seconds),
    )
    rate_limits = RateLimits(settings.redis_url, f"{settings.redis_prefix}ratelimit")
    schools = SchoolRepository(infra.db)
    teachers = TeacherRepository(infra.db)
    accounts = AccountRepository(infra.db)

    async def next_sequence(name: str) -> int:
        return await mongo.next_sequence(infra.db, name)

    # terms, catalogue, selection
    term_service = TermService(TermRepository(infra.db), clock)
    course_repository = CourseRepository(infra.db)
    selection_repository = SelectionRepository(infra.db)
    selection_service = SelectionService(
        term_service, course_repository, selection_repository, teachers, CartRepository(infra.db), clock
    )
    results = ResultsService(ResultRepository(infra.db), clock)
    ability_service = AbilityService(AbilityRepository(infra.db), term_service, selection_service, results, clock)
    project_service = ProjectService(ApplicationRepository(infra.db), selection_service, clock)
    # school-based courses reuse the selection path (same invariants) and the results rules
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
        token_versions=token_versions,
        roster=RosterService(schools, teachers, hasher, clock, next_sequence, token_versions=token_versions),
        auth=AuthService(
            accounts,
            teachers,
            hasher,
            issuer,
            max_failed_logins=settings.max_failed_logins,
            schools=schools,
            captchas=CaptchaStore(infra.redis, f"{settings.redis_prefix}captcha:"),
            captcha_after_failures=settings.captcha_after_failures,
            token_versions=token_versions,
            rate_limits=rate_limits,
            login_rate_per_client=settings.login_rate_per_client,
            login_rate_per_login=settings.login_rate_per_login,
            clock=clock,
        ),
        transfers=TransferService(
            TransferRepository(infra.db),
            teachers,
            schools,
            SelectionLedger(infra.db),
            clock,
            rate_limits=rate_limits,
            rate_per_admin=settings.transfer_rate_per_admin,
        ),
        account_service=AccountService(
            accounts, hasher, clock, teachers=teachers, schools=schools, token_versions=token_versions
        ),
        billing=BillingService(BillRepository(infra.db), clock, next_sequence),
        results=results,
        school_courses=school_courses,
        special_users=SpecialUserService(SpecialUserRepository(infra.db), teachers, clock),
        statistics=StatisticsService(StatisticsRepository(infra.db)),
        announcements=AnnouncementService(AnnouncementRepository(infra.db), clock),
        programme_accounts=ProgrammeAccounts(
            ProgrammeAccountRepository(infra.db),
            hasher,
            clock,
            load_public_sealing_key(settings.keys_dir, NOTIFY_CREDENTIALS_KEY),
            token_versions=token_versions,
            rate_limits=rate_limits,
        ),
    )
