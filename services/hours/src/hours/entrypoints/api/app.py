"""The hours HTTP app, built from a container: ``uvicorn hours.entrypoints.api.app:app``.

``app`` is built on first access (uvicorn reads it by name), so importing ``create_app`` in a test
builds nothing."""

from __future__ import annotations

from fastapi import FastAPI

from hours.adapters import mongo
from hours.bootstrap import Container, build
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
from jijiao_kit.service import service_api

#: the app uvicorn serves, built on first access (``__getattr__`` below)
app: FastAPI


def create_app(container: Container | None = None) -> FastAPI:
    container = container or build()
    db = container.infra.db
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
        ensure_indexes=lambda: mongo.ensure_indexes(db),
    )


def __getattr__(name: str) -> FastAPI:
    if name == "app":
        global app
        app = create_app()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
