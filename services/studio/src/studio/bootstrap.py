"""Composition root of studio: ``build(settings) -> Container`` (the API and the worker build on it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from jijiao_kit.auth import TokenVerifier, verifier_from_settings
from jijiao_kit.clock import Clock, SystemClock
from jijiao_kit.runtime import Infrastructure
from studio.adapters.directory import TeacherDirectory
from studio.adapters.recruitment import ApplicationRepository, RecruitmentRepository
from studio.adapters.studios import StudioRepository
from studio.service_layer.recruitment import RecruitmentService
from studio.service_layer.studios import StudioService
from studio.settings import Settings


@dataclass
class Container:
    settings: Settings
    infra: Infrastructure
    verifier: TokenVerifier
    directory: TeacherDirectory
    studios: StudioService
    recruitment: RecruitmentService
    clock: Clock = field(default_factory=SystemClock)


def build(settings: Settings | None = None, *, clock: Clock | None = None) -> Container:
    settings = settings or Settings()
    clock = clock or SystemClock()
    infra = Infrastructure.from_settings(settings)
    directory = TeacherDirectory(infra.db)
    studios = StudioRepository(infra.db)
    recruitments = RecruitmentRepository(infra.db)
    applications = ApplicationRepository(infra.db)
    return Container(
        settings=settings,
        infra=infra,
        verifier=verifier_from_settings(settings),
        directory=directory,
        studios=StudioService(studios, directory, clock, applications, recruitments),
        recruitment=RecruitmentService(recruitments, applications, studios, directory, clock),
        clock=clock,
    )
