"""The HTTP side every service shares: app factory, correlation ids, health, readiness, metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from jijiao_kit.correlation import new_correlation_id, set_correlation_id
from jijiao_kit.errors import install_problem_handlers
from jijiao_kit.health import Check, run_checks

logger = logging.getLogger("jijiao.http")
CORRELATION_HEADER = "X-Correlation-ID"


def operation_id(route: APIRoute) -> str:
    """Stable operation ids: the route function's name, so clients can be generated."""
    return route.name


class _RequestContext(BaseHTTPMiddleware):
    def __init__(self, app: Any, requests: Counter, latency: Histogram) -> None:
        super().__init__(app)
        self.requests = requests
        self.latency = latency

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        correlation_id = request.headers.get(CORRELATION_HEADER) or new_correlation_id()
        set_correlation_id(correlation_id)
        started = time.perf_counter()
        response = await call_next(request)
        elapsed = time.perf_counter() - started
        route = request.scope.get("route")
        path = route.path if isinstance(route, APIRoute) else "unmatched"
        self.requests.labels(request.method, path, str(response.status_code)).inc()
        self.latency.labels(request.method, path).observe(elapsed)
        response.headers[CORRELATION_HEADER] = correlation_id
        if response.status_code >= 500:
            logger.error("%s %s -> %s", request.method, request.url.path, response.status_code)
        return response


def create_app(
    *,
    title: str,
    description: str,
    version: str = "0.1.0",
    routers: list[APIRouter],
    readiness: Callable[[FastAPI], dict[str, Check]],
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
) -> FastAPI:
    """Build a service's FastAPI app. ``readiness`` maps dependency names to checks, read at request
    time from whatever the lifespan put on ``app.state``."""
    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    registry = CollectorRegistry()
    requests = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"], registry=registry)
    latency = Histogram(
        "http_request_duration_seconds",
        "HTTP request latency",
        ["method", "route"],
        registry=registry,
        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5),
    )
    app.state.metrics_registry = registry
    app.add_middleware(_RequestContext, requests=requests, latency=latency)
    install_problem_handlers(app)

    ops = APIRouter(tags=["operations"])

    @ops.get("/healthz", operation_id="healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @ops.get("/readyz", operation_id="readyz", responses={503: {"description": "A dependency is down"}})
    async def readyz() -> JSONResponse:
        results = await run_checks(readiness(app))
        failing = sorted(name for name, state in results.items() if state != "ok")
        body = {"status": "ready" if not failing else "unavailable", "checks": results, "failing": failing}
        return JSONResponse(body, status_code=503 if failing else 200)

    @ops.get("/metrics", operation_id="metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(ops)
    for router in routers:
        app.include_router(router)
    return app


async def noop_lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
