"""Composition root of the hours service: builds the container (``entrypoints/api/app.py`` builds the
HTTP app from it, ``entrypoints/worker.py`` the worker)."""

from __future__ import annotations

from dataclasses import dataclass

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
from hours.service_layer.complaints import Complaints
from hours.service_layer.crediting import HoursBank
from hours.service_layer.declarations import Declarations
from hours.service_layer.jobs import AdminJobs
from hours.service_layer.points import PointsBank
from hours.service_layer.queries import HoursQueries
from hours.service_layer.registrations import Registrations
from hours.service_layer.rules import RulesService
from hours.service_layer.teacher_points import TeacherPoints
from hours.service_layer.verification import VerificationService
from hours.settings import Settings
from jijiao_kit.auth import TokenVerifier, verifier_from_settings
from jijiao_kit.clock import Clock, SystemClock
from jijiao_kit.runtime import Infrastructure


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
