"""ASGI entry point: ``uvicorn studio.entrypoints.api.app:app``."""

from __future__ import annotations

from fastapi import FastAPI

from jijiao_kit.service import service_api
from studio.adapters import mongo
from studio.bootstrap import Container, build
from studio.entrypoints.api.routers import (
    activities,
    bulletins,
    community,
    content,
    directory,
    evaluations,
    recruitments,
    research_logs,
    studios,
)


def create_app(container: Container | None = None) -> FastAPI:
    container = container or build()
    app = service_api(
        container=container,
        infra=container.infra,
        verifier=container.verifier,
        title="jijiao studio",
        description="Research studios (名师工作室): applications, stages, activities, members, evaluations.",
        routers=[
            directory.router,
            studios.router,
            recruitments.router,
            activities.router,
            bulletins.router,
            evaluations.router,
            content.router,
            content.indicators_router,
            community.router,
            research_logs.router,
        ],
        ensure_indexes=lambda: mongo.ensure_indexes(container.infra.db),
    )
    community.limit_uploads(app, container.settings)
    return app


app = create_app()
