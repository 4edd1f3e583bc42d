"""Pieces every service's composition root uses to build its API and worker the same way."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

from fastapi import APIRouter, FastAPI

from jijiao_contracts.envelope import IntegrationEvent
from jijiao_kit.auth import TokenVerifier, TokenVersions, token_version_namespace
from jijiao_kit.http import create_app
from jijiao_kit.logging import configure_logging
from jijiao_kit.runtime import Infrastructure
from jijiao_kit.stepup import step_up_verifier_from_settings

logger = logging.getLogger(__name__)


def service_api(
    *,
    container: Any,
    infra: Infrastructure,
    verifier: TokenVerifier,
    title: str,
    description: str,
    routers: list[APIRouter],
    ensure_indexes: Callable[[], Awaitable[None]],
) -> FastAPI:
    """The API process of a service: logging, indexes at start, readiness on its own connections,
    and ``app.state.container`` / ``app.state.token_verifier`` for the dependencies."""
    settings = infra.settings
    configure_logging(settings.service_name, settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await ensure_indexes()
        except Exception:  # the store may come up later; /readyz says so meanwhile
            logger.exception("could not ensure indexes at start")
        yield
        await infra.close()

    app = create_app(
        title=title,
        description=description,
        routers=routers,
        readiness=lambda _app: infra.readiness_checks(),
        lifespan=lifespan,
    )
    app.state.container = container
    app.state.token_verifier = verifier
    # revoked tokens (kit.auth.TokenVersions): the container's own when it bumps versions (enrollment)
    app.state.token_versions = getattr(container, "token_versions", None) or TokenVersions(
        infra.redis, token_version_namespace(settings.name_prefix)
    )
    app.state.step_up_required = settings.step_up_required
    app.state.step_up_verifier = step_up_verifier_from_settings(settings)
    return app


def produced_events(module: ModuleType) -> list[type[IntegrationEvent]]:
    """Every event class a contracts module defines (for the worker's AsyncAPI document)."""
    return [
        cls
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, IntegrationEvent) and cls.EVENT_TYPE
    ]
