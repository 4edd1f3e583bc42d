"""The enrollment HTTP app, built from a container: ``uvicorn enrollment.entrypoints.api.app:app``.

``app`` is built on first access (uvicorn reads it by name), so importing ``create_app`` in a test
builds nothing."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware import Middleware

from enrollment.adapters import mongo
from enrollment.bootstrap import Container, build
from enrollment.entrypoints.api.password_gate import PasswordChangeGate
from enrollment.entrypoints.api.routers import (
    ability,
    admins,
    announcements,
    auth,
    billing,
    catalogue,
    programme_accounts,
    results,
    school_courses,
    schools,
    selection,
    selection_projects,
    special_users,
    statistics,
    teachers,
    terms,
    transfers,
)
from jijiao_kit.service import service_api

#: the app uvicorn serves, built on first access (``__getattr__`` below)
app: FastAPI


def create_app(container: Container | None = None) -> FastAPI:
    container = container or build()
    db = container.infra.db
    app = service_api(
        container=container,
        infra=container.infra,
        verifier=container.verifier,
        title="jijiao enrollment",
        description="Roster, accounts and login, terms, catalogue, selection, bills, results (继教 选课与缴费).",
        routers=[
            terms.router,
            catalogue.router,
            selection.router,
            ability.router,
            selection_projects.router,
            auth.router,
            schools.router,
            teachers.router,
            transfers.router,
            admins.router,
            billing.router,
            results.router,
            special_users.router,
            statistics.router,
            school_courses.router,
            announcements.router,
            programme_accounts.router,
        ],
        ensure_indexes=lambda: mongo.ensure_indexes(db),
    )
    # Initial passwords must be changed before anything else (only enrollment issues tokens). Innermost,
    # so its refusals carry the correlation id and are counted like every other answer.
    app.user_middleware.append(
        Middleware(PasswordChangeGate, verifier=container.verifier, still_required=container.auth.must_change_password)
    )
    return app


def __getattr__(name: str) -> FastAPI:
    if name == "app":
        global app
        app = create_app()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
