"""The HTTP side every service shares: app factory, correlation ids, health, readiness, metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pymongo.errors import ConnectionFailure
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jijiao_kit.correlation import new_correlation_id, set_correlation_id
from jijiao_kit.errors import AppError, install_problem_handlers, problem_response
from jijiao_kit.guard import BodyLimit, SecurityHeaders
from jijiao_kit.health import Check, run_checks
from jijiao_kit.xlsx import XLSX_MEDIA_TYPE

logger = logging.getLogger("jijiao.http")
CORRELATION_HEADER = "X-Correlation-ID"


def operation_id(route: APIRoute) -> str:
    """Stable operation ids: the route function's name, so clients can be generated."""
    return route.name


class _RequestContext:
    """Correlation id, request metrics and 5xx logging as a plain ASGI middleware (Starlette's
    ``BaseHTTPMiddleware`` runs every request through an extra task and memory streams, which cost
    about a tenth of the API's CPU under a selection storm)."""

    def __init__(self, app: ASGIApp, requests: Counter, latency: Histogram) -> None:
        self.app = app
        self.requests = requests
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = Headers(scope=scope).get(CORRELATION_HEADER) or new_correlation_id()
        set_correlation_id(correlation_id)
        started = time.perf_counter()
        status = 500

        async def send_with_correlation(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[CORRELATION_HEADER] = correlation_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_correlation)
        finally:
            route = scope.get("route")
            path = route.path if isinstance(route, APIRoute) else "unmatched"
            method = scope["method"]
            self.requests.labels(method, path, str(status)).inc()
            self.latency.labels(method, path).observe(time.perf_counter() - started)
            if status >= 500:
                logger.error("%s %s -> %s", method, scope["path"], status)


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
    app.add_middleware(BodyLimit)  # innermost of the three: security headers and metrics see its 413s
    app.add_middleware(SecurityHeaders)
    app.add_middleware(_RequestContext, requests=requests, latency=latency)
    install_problem_handlers(app)
    install_store_outage_handler(app)

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


#: Seconds a client should wait before retrying a request that met a store outage.
STORE_RETRY_AFTER_SECONDS = 5

#: A store that cannot be reached: pymongo's ``ConnectionFailure`` covers ``AutoReconnect``,
#: ``ServerSelectionTimeoutError``, ``NetworkTimeout`` and ``WaitQueueTimeoutError``; Redis likewise.
STORE_OUTAGE_ERRORS: tuple[type[Exception], ...] = (ConnectionFailure, RedisConnectionError, RedisTimeoutError)


def install_store_outage_handler(app: FastAPI) -> None:
    """A store outage answers 503 problem+json with ``Retry-After`` (nothing was written: the request
    may be repeated), not a 500. Handled as an application exception, so the response ends normally
    and the client's keep-alive connection stays open (the catch-all 500 handler re-raises, and the
    server then drops the connection)."""

    async def _store_outage(request: Request, exc: Exception) -> Response:
        logger.warning("store unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        error = AppError(
            "A data store is unavailable; retry later.",
            code="store_unavailable",
            title="系统暂时不可用，请稍后再试",
            status=503,
            headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)},
        )
        return problem_response(error, request)

    for error_class in STORE_OUTAGE_ERRORS:
        app.add_exception_handler(error_class, _store_outage)


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """A ``Content-Disposition`` value for a download named after request values (a school id, a term):
    an ASCII ``filename`` for old clients plus the exact name as RFC 5987 ``filename*``. Header values go
    out as latin-1, so a name with any other character (or a quote, a CR/LF) put into the header as it
    is would fail the response with a 500, or split it."""
    fallback = "".join(ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\' else "_" for ch in filename)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def xlsx_download(content: bytes, filename: str) -> Response:
    """A workbook (``jijiao_kit.xlsx``) as an attachment named ``filename``."""
    return Response(content, media_type=XLSX_MEDIA_TYPE, headers={"Content-Disposition": content_disposition(filename)})
