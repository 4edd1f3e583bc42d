"""Request-size limits and security headers for every service's API, as plain ASGI middleware.

``BodyLimit``: a body over its limit is refused with 413 before it is read. When the app first asks
for the body (after routing, so the route's own limit is known), a declared ``Content-Length`` over
the limit is refused without reading a byte; a streamed (chunked) body is counted as it arrives. Past
the limit, the app is told the client went away and the 413 goes out instead of whatever the app
would have answered to that. The limit is the route's own when it declares one
(``openapi_extra=body_limit(n)``, shown in the OpenAPI document as ``x-body-limit``), otherwise
``JSON_LIMIT`` for JSON and other small bodies and ``UPLOAD_LIMIT`` for multipart and binary uploads.
(An anonymous 50 MB login body was parsed whole and grew the process by 90 MB.)

``SecurityHeaders``: ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
``Referrer-Policy: no-referrer`` and a strict ``Content-Security-Policy`` (an API serves no active
content; the interactive docs pages get none, they load Swagger UI's scripts) on every answer, and
``Cache-Control: no-store`` on every answer to a request that carried credentials."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jijiao_kit.errors import AppError, problem_response

JSON_LIMIT = 1024 * 1024
UPLOAD_LIMIT = 12 * 1024 * 1024
LIMIT_KEY = "x-body-limit"
#: Bodies that are files: multipart forms and raw uploads (a workbook, a PDF, an image).
UPLOAD_MEDIA_PREFIXES = (
    "multipart/form-data",
    "application/octet-stream",
    "application/vnd.openxmlformats-officedocument.",
    "application/pdf",
    "image/",
)
STRICT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})


def body_limit(max_bytes: int) -> dict[str, Any]:
    """``openapi_extra`` for a route whose bodies may be at most ``max_bytes`` long."""
    return {LIMIT_KEY: max_bytes}


class PayloadTooLarge(AppError):
    status, code, title = 413, "payload_too_large", "提交的内容过大"


class BodyLimit:
    def __init__(self, app: ASGIApp, *, json_bytes: int = JSON_LIMIT, upload_bytes: int = UPLOAD_LIMIT) -> None:
        self.app = app
        self.json_bytes = json_bytes
        self.upload_bytes = upload_bytes

    def limit_for(self, scope: Scope, headers: Headers) -> int:
        """The matched route's own limit (the router has put it in the scope by the time the body is
        read), else the default for the body's media type."""
        extra = getattr(scope.get("route"), "openapi_extra", None)
        if isinstance(extra, dict) and LIMIT_KEY in extra:
            return int(extra[LIMIT_KEY])
        media = headers.get("content-type", "").lower()
        return self.upload_bytes if media.startswith(UPLOAD_MEDIA_PREFIXES) else self.json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit: int | None = None
        received = 0
        too_large = False
        started = False

        async def counting_receive() -> Message:
            nonlocal limit, received, too_large
            if too_large:
                return {"type": "http.disconnect"}
            if limit is None:  # the first read: nothing of the body has been read yet
                limit = self.limit_for(scope, headers)
                declared = headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    too_large = True
                    return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True  # the app sees a client that went away; the 413 goes out below
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if too_large and not started:
                return  # the app's answer to the cut-off body is replaced by the 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not too_large or started:
                raise
            # the app failed on the cut-off body (a disconnect it did not expect): the 413 answers
        if too_large and not started:
            await self._refuse(scope, receive, send, limit or 0)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        error = PayloadTooLarge(
            f"The request body is larger than {limit} bytes.",
            extra={"max_bytes": limit},
            headers={"Connection": "close"},
        )
        await problem_response(error)(scope, receive, send)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        credentialed = "authorization" in request_headers or "cookie" in request_headers
        docs = scope.get("path") in DOCS_PATHS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "no-referrer")
                if not docs:
                    headers.setdefault("Content-Security-Policy", STRICT_CSP)
                if credentialed:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
