"""The notify HTTP app, built from a container: ``uvicorn notify.entrypoints.api.app:app``.

``app`` is built on first access (uvicorn reads it by name), so importing ``create_app`` in a test
builds nothing."""

from __future__ import annotations

from fastapi import FastAPI

from jijiao_kit.service import service_api
from notify.adapters import mongo
from notify.bootstrap import Container, build
from notify.entrypoints.api.routers import contacts, dev, messages, verifications

#: the app uvicorn serves, built on first access (``__getattr__`` below)
app: FastAPI


def create_app(container: Container | None = None) -> FastAPI:
    container = container or build()
    db = container.infra.db
    return service_api(
        container=container,
        infra=container.infra,
        verifier=container.verifier,
        title="jijiao notify",
        description="Contact book, SMS and email delivery, verification codes, delivery log (通知服务).",
        routers=[verifications.router, messages.router, contacts.router, dev.router],
        ensure_indexes=lambda: mongo.ensure_indexes(db),
    )


def __getattr__(name: str) -> FastAPI:
    if name == "app":
        global app
        app = create_app()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
