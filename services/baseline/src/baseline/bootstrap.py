"""Composition root of baseline: ``build(settings) -> Container`` and nothing else (the API and the
worker are built from a container in ``entrypoints``)."""

from __future__ import annotations

from dataclasses import dataclass

from baseline.adapters.directory import TeacherDirectory
from baseline.adapters.zones import ZoneRepository
from baseline.service_layer.zones import ZoneService
from baseline.settings import Settings
from jijiao_kit.auth import TokenVerifier, verifier_from_settings
from jijiao_kit.clock import Clock, SystemClock
from jijiao_kit.runtime import Infrastructure


@dataclass
class Container:
    settings: Settings
    infra: Infrastructure
    clock: Clock
    verifier: TokenVerifier
    directory: TeacherDirectory
    zones: ZoneService


def build(settings: Settings | None = None, *, clock: Clock | None = None) -> Container:
    settings = settings or Settings()
    infra = Infrastructure.from_settings(settings)
    clock = clock or SystemClock()
    return Container(
        settings=settings,
        infra=infra,
        clock=clock,
        verifier=verifier_from_settings(settings),
        directory=TeacherDirectory(infra.db),
        zones=ZoneService(ZoneRepository(infra.db), clock),
    )
