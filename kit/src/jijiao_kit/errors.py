"""Errors as RFC 9457 problem+json: a stable machine ``code``, a Chinese ``title`` for users and an
English ``detail`` for developers. Domain and service code raise ``AppError`` subclasses; the HTTP
layer turns them (and request-validation failures) into responses. Nothing here knows a domain."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger(__name__)


class AppError(Exception):
    """An error with a place in the API: status, stable code, Chinese title, English detail."""

    status: int = 400
    code: str = "bad_request"
    title: str = "请求有误"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        title: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        if title:
            self.title = title
        if status:
            self.status = status
        self.headers = headers or {}
        self.extra = extra or {}

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://jijiao.example/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class BadRequest(AppError):
    status, code, title = 400, "bad_request", "请求有误"


class InvalidInput(AppError):
    status, code, title = 422, "validation_failed", "提交的数据不符合要求"


class Unauthorized(AppError):
    status, code, title = 401, "unauthorized", "请先登录"


class Forbidden(AppError):
    status, code, title = 403, "forbidden", "无权进行此操作"


class NotFound(AppError):
    status, code, title = 404, "not_found", "找不到所请求的内容"


class Conflict(AppError):
    status, code, title = 409, "conflict", "操作与当前状态冲突"


class TooManyRequests(AppError):
    status, code, title = 429, "too_many_requests", "操作过于频繁，请稍后再试"


class Locked(AppError):
    status, code, title = 423, "locked", "资源已锁定"


def problem_response(error: AppError, request: Request | None = None) -> JSONResponse:
    instance = str(request.url.path) if request is not None else None
    return JSONResponse(
        error.to_problem(instance),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=error.headers,
    )


def _validation_problem(exc: RequestValidationError) -> AppError:
    errors = exc.errors()
    if any(err.get("type") == "json_invalid" for err in errors):
        return BadRequest("The request body is not valid JSON.", code="malformed_json", title="请求内容不是有效的 JSON")
    fields = [
        {
            "location": ".".join(str(part) for part in err.get("loc", ())),
            "message": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in errors
    ]
    summary = "; ".join(f"{f['location']}: {f['message']}" for f in fields[:5])
    return InvalidInput(f"Request validation failed: {summary}", extra={"errors": fields})


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(_validation_problem(exc), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: ("not_found", "找不到所请求的内容"), 405: ("method_not_allowed", "不支持该请求方法")}
        code, title = titles.get(exc.status_code, ("http_error", "请求无法处理"))
        error = AppError(str(exc.detail), code=code, title=title, status=exc.status_code)
        return problem_response(error, request)

    @app.exception_handler(ClientDisconnect)
    async def _disconnected(request: Request, exc: ClientDisconnect) -> JSONResponse:
        # The client went away (or jijiao_kit.guard cut off a body over its limit): not a server fault.
        error = BadRequest("The request body did not arrive.", code="client_disconnected", title="请求未完整送达")
        return problem_response(error, request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        error = AppError("Internal error.", code="internal_error", title="系统繁忙，请稍后再试", status=500)
        return problem_response(error, request)
