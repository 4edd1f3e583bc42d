"""Composition root of baseline (API and worker)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from baseline.adapters import mongo
from baseline.adapters.directory import TeacherDirectory
from baseline.adapters.zones import ZoneRepository
from baseline.service_layer.zones import ZoneService
from baseline.settings import Settings
from jijiao_kit.auth import TokenVerifier, verifier_from_settings
from jijiao_kit.clock import SystemClock
from jijiao_kit.runtime import Infrastructure
from jijiao_kit.service import service_api


@dataclass
class Container:
    settings: Settings
    infra: Infrastructure
    verifier: TokenVerifier
    directory: TeacherDirectory
    zones: ZoneService


def build(settings: Settings | None = None) -> Container:
    settings = settings or Settings()
    infra = Infrastructure.from_settings(settings)
    return Container(
        settings=settings,
        infra=infra,
        verifier=verifier_from_settings(settings),
        directory=TeacherDirectory(infra.db),
        zones=ZoneService(ZoneRepository(infra.db), SystemClock()),
    )


def create_api(container: Container | None = None) -> FastAPI:
    from baseline.entrypoints.api.routers import directory, zones

    container = container or build()
    return service_api(
        container=container,
        infra=container.infra,
        verifier=container.verifier,
        title="jijiao baseline",
        description="National research-base programme (研修基地): zones, bases, quotas, demands, trainees.",
        routers=[directory.router, zones.router],
        ensure_indexes=lambda: mongo.ensure_indexes(container.infra.db),
    )
