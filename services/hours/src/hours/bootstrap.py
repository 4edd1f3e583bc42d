"""Composition root of the hours service (API and worker)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from hours.adapters import mongo
from hours.adapters.files import FileStore
from hours.adapters.repositories import Teachers
from hours.service_layer.complaints import Complaints
from hours.service_layer.crediting import HoursBank
from hours.service_layer.declarations import Declarations
from hours.service_layer.points import PointsBank
from hours.service_layer.queries import HoursQueries
from hours.service_layer.registrations import Registrations
from hours.service_layer.rules import RulesService
from hours.service_layer.verification import VerificationService
from hours.settings import Settings
from jijiao_kit.auth import TokenVerifier, verifier_from_settings
from jijiao_kit.clock import Clock, SystemClock
from jijiao_kit.runtime import Infrastructure
from jijiao_kit.service import service_api


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
