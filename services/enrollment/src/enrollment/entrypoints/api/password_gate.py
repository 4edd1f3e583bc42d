"""Initial passwords must be replaced (DOMAIN §1: teachers are told an initial password, the last six
ID characters, by SMS; a school admin's reset sets it again). A token issued while the password is
still the initial one carries ``must_change_password``; with it the caller may only change the
password, read its own profile and sign in again. Every other enrollment call answers 403
``password_change_required``. Once the password is changed the old token stops blocking (the store
says so) and a new login issues a token without the claim.

A plain ASGI middleware, so it covers every route however it reads the caller (the kit's
``CurrentPrincipal``, the selection routers' direct ``get_principal``, step-up exports). Tokens
without the claim pass untouched: the verifier remembers verified tokens, so the route's own check
costs no second signature verification."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from jijiao_kit.auth import TokenVerifier
from jijiao_kit.errors import AppError, Forbidden, problem_response

CLAIM = "must_change_password"

#: What a caller that must change its password may still do: (method, path pattern). A pattern with
#: a ``ce_number`` group matches only the caller's own CE number.
ALLOWED: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("POST", re.compile(r"/v1/auth/password")),
    ("POST", re.compile(r"/v1/auth/token")),
    ("GET", re.compile(r"/v1/admins/me")),
    ("GET", re.compile(r"/v1/teachers/(?P<ce_number>[^/]+)")),
)


def allowed_before_change(method: str, path: str, claims: dict[str, Any]) -> bool:
    own = (claims.get("scopes") or {}).get("ce_number")
    for allowed_method, pattern in ALLOWED:
        match = pattern.fullmatch(path.rstrip("/") or "/")
        if method != allowed_method or match is None:
            continue
        ce_number = match.groupdict().get("ce_number")
        if ce_number is None or (own is not None and ce_number == own):
            return True
    return False


def password_change_required() -> Forbidden:
    return Forbidden(
        "The initial password must be changed first (POST /v1/auth/password), then sign in again.",
        code="password_change_required",
        title="请先修改初始密码后再使用系统",
    )


class PasswordChangeGate:
    def __init__(
        self, app: ASGIApp, *, verifier: TokenVerifier, still_required: Callable[[str], Awaitable[bool]]
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.still_required = still_required

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            claims = self._claims(scope)
            if (
                claims is not None
                and claims.get(CLAIM)
                and not allowed_before_change(scope["method"], scope["path"], claims)
                and await self.still_required(str(claims.get("sub")))
            ):
                response = problem_response(password_change_required(), Request(scope))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _claims(self, scope: Scope) -> dict[str, Any] | None:
        header = Headers(scope=scope).get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            return self.verifier.decode(token.strip())
        except AppError:  # not a valid token: the route answers 401 itself
            return None
