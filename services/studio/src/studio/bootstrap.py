"""Composition root of studio (API and worker)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from jijiao_kit.auth import TokenVerifier, verifier_from_settings
from jijiao_kit.clock import SystemClock
from jijiao_kit.runtime import Infrastructure
from jijiao_kit.service import service_api
from studio.adapters import mongo
from studio.adapters.directory import TeacherDirectory
from studio.adapters.studios import StudioRepository
from studio.service_layer.studios import StudioService
from studio.settings import Settings


@dataclass
class Container:
    settings: Settings
    infra: Infrastructure
    verifier: TokenVerifier
    directory: TeacherDirectory
    studios: StudioService


def build(settings: Settings | None = None) -> Container:
    settings = settings or Settings()
    infra = Infrastructure.from_settings(settings)
    directory = TeacherDirectory(infra.db)
    return Container(
        settings=settings,
        infra=infra,
        verifier=verifier_from_settings(settings),
        directory=directory,
        studios=StudioService(StudioRepository(infra.db), directory, SystemClock()),
    )


def create_api(container: Container | None = None) -> FastAPI:
    from studio.entrypoints.api.routers import directory, studios

    container = container or build()
    return service_api(
        container=container,
        infra=container.infra,
        verifier=container.verifier,
        title="jijiao studio",
        description="Research studios (名师工作室): applications, stages, activities, members, evaluations.",
        routers=[directory.router, studios.router],
        ensure_indexes=lambda: mongo.ensure_indexes(container.infra.db),
    )
