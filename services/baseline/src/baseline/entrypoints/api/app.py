"""ASGI entry point: ``uvicorn baseline.entrypoints.api.app:app``; ``create_app(container)`` for tests."""

from __future__ import annotations

from fastapi import FastAPI

from baseline.adapters import mongo
from baseline.bootstrap import Container, build
from baseline.entrypoints.api.routers import (
    archives,
    directory,
    imports,
    outcomes,
    personnel,
    programme,
    reference,
    reflections,
)
from jijiao_kit.service import service_api


def create_app(container: Container | None = None) -> FastAPI:
    container = container or build()
    return service_api(
        container=container,
        infra=container.infra,
        verifier=container.verifier,
        title="jijiao baseline",
        description="National research-base programme (研修基地): zones, bases, quotas, demands, trainees.",
        routers=[
            directory.router,
            reference.router,
            imports.router,
            programme.router,
            personnel.router,
            outcomes.router,
            reflections.router,
            archives.router,
        ],
        ensure_indexes=lambda: mongo.ensure_indexes(container.infra.db),
    )


def __getattr__(name: str) -> FastAPI:
    """``app`` is built on first use (uvicorn's import), so importing ``create_app`` in tests builds nothing."""
    if name == "app":
        globals()["app"] = built = create_app()
        return built
    raise AttributeError(name)
