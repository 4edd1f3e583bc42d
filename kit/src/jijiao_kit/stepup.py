"""Step-up tokens for sensitive actions (DESIGN.md rule 7): notify checks an SMS code and signs a
short-lived token (30 minutes) with its own key; any service verifies it here.

A sensitive endpoint depends on ``require_step_up("export")``. Whether the check is enforced is one
switch per service: ``app.state.step_up_required`` (settings ``STEP_UP_REQUIRED``)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives import serialization
from fastapi import Depends, Request

from jijiao_kit.auth import ALGORITHM, Principal, get_principal, load_public_key, principal_from_request
from jijiao_kit.errors import Forbidden

STEP_UP_HEADER = "X-Step-Up-Token"
STEP_UP_KEY_NAME = "stepup"
STEP_UP_ISSUER = "jijiao-notify"
STEP_UP_AUDIENCE = "jijiao-stepup"
STEP_UP_TTL_SECONDS = 30 * 60


class StepUpSigner:
    def __init__(self, private_pem: bytes) -> None:
        self._key = serialization.load_pem_private_key(private_pem, password=None)

    def sign(
        self, subject: str, purpose: str, *, now: float | None = None, ttl_seconds: int = STEP_UP_TTL_SECONDS
    ) -> str:
        issued = int(now if now is not None else time.time())
        claims = {
            "sub": subject,
            "purpose": purpose,
            "iss": STEP_UP_ISSUER,
            "aud": STEP_UP_AUDIENCE,
            "iat": issued,
            "exp": issued + ttl_seconds,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)  # type: ignore[arg-type]


class StepUpVerifier:
    def __init__(self, public_pem: bytes) -> None:
        self._key = serialization.load_pem_public_key(public_pem)

    def verify(self, token: str, *, subject: str, purpose: str, now: float | None = None) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,  # type: ignore[arg-type]
                algorithms=[ALGORITHM],
                issuer=STEP_UP_ISSUER,
                audience=STEP_UP_AUDIENCE,
                options={"verify_exp": now is None},
            )
        except jwt.PyJWTError as exc:
            raise _denied(f"Invalid or expired step-up token: {exc}") from exc
        if now is not None and claims["exp"] <= now:
            raise _denied("Step-up token expired.")
        if claims.get("sub") != subject or claims.get("purpose") != purpose:
            raise _denied("Step-up token was issued for another user or purpose.")
        return claims


def step_up_verifier_from_settings(settings: Any) -> StepUpVerifier:
    pem = load_public_key(settings.keys_dir, STEP_UP_KEY_NAME, getattr(settings, "step_up_public_key", None))
    return StepUpVerifier(pem)


def _denied(detail: str) -> Forbidden:
    return Forbidden(detail, code="step_up_required", title="此操作需要短信验证，请先获取并输入验证码")


def require_step_up(purpose: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency returning the caller, after checking their step-up token when the switch is on."""

    async def dependency(request: Request) -> Principal:
        principal = await get_principal(request)
        if not getattr(request.app.state, "step_up_required", False):
            return principal
        token = request.headers.get(STEP_UP_HEADER)
        if not token:
            raise _denied("This export needs a step-up token (X-Step-Up-Token) from notify.")
        verifier: StepUpVerifier = request.app.state.step_up_verifier
        verifier.verify(token, subject=principal.subject, purpose=purpose)
        return principal

    return dependency


def step_up_granted(request: Request, *purposes: str) -> bool:
    """Whether this request may see what a step-up protects, for a view that shows less without one
    (an ID number masked): the switch is off, or the request carries a valid token for one of
    ``purposes``. A token that is there but fails (expired, another user or purpose) raises 403, so a
    wrong code is said, never silently ignored."""
    if not getattr(request.app.state, "step_up_required", False):
        return True
    token = request.headers.get(STEP_UP_HEADER)
    if not token:
        return False
    principal = principal_from_request(request)
    verifier: StepUpVerifier = request.app.state.step_up_verifier
    refusal: Forbidden | None = None
    for purpose in purposes:
        try:
            verifier.verify(token, subject=principal.subject, purpose=purpose)
            return True
        except Forbidden as exc:
            refusal = exc
    raise refusal or _denied("No purpose given.")


#: The caller of a sensitive export: signed in, and with a step-up token for "export" when required.
ExportPrincipal = Annotated[Principal, Depends(require_step_up("export"))]
