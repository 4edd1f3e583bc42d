from __future__ import annotations

import base64

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from enrollment.entrypoints.api.deps import AuthDep
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.timeutil import UtcDateTime

router = APIRouter(prefix="/v1/auth", tags=["auth"])


class TokenRequest(BaseModel):
    login: str = Field(min_length=1, max_length=64, description="Account name, CE number, ID number or mobile")
    password: str = Field(min_length=1, max_length=128)
    captcha_id: str | None = Field(None, max_length=64, description="图形验证码 id (POST /v1/auth/captcha)")
    captcha_answer: str | None = Field(None, max_length=16, description="the characters on the image")


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    must_change_password: bool = False


@router.post(
    "/token",
    response_model=TokenResponse,
    responses={
        400: {"description": "captcha_required / captcha_invalid"},
        401: {"description": "Unknown login or wrong password (one answer for both)"},
        423: {"description": "Account locked"},
        429: {"description": "Too many tries from this client or for this login; see Retry-After"},
    },
)
async def issue_token(body: TokenRequest, request: Request, auth: AuthDep) -> TokenResponse:
    """Sign in. After a few wrong passwords in a row the next try also needs an image code from
    ``POST /v1/auth/captcha`` (400 ``captcha_required`` / ``captcha_invalid``)."""
    captcha = (body.captcha_id, body.captcha_answer or "") if body.captcha_id else None
    client = request.client.host if request.client else None
    issued = await auth.login(body.login, body.password, captcha, client=client)
    return TokenResponse(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        must_change_password=issued.must_change_password,
    )


class CaptchaOut(BaseModel):
    id: str
    image: str = Field(description="data:image/png;base64,... (160 x 60)")
    expires_at: UtcDateTime


@router.post("/captcha", status_code=status.HTTP_201_CREATED, response_model=CaptchaOut)
async def new_captcha(auth: AuthDep) -> CaptchaOut:
    """A one-time image code for the login form (valid 5 minutes, one check)."""
    issued = await auth.new_captcha()
    return CaptchaOut(
        id=issued.id,
        image="data:image/png;base64," + base64.b64encode(issued.png).decode(),
        expires_at=issued.expires_at,
    )


class PasswordChange(BaseModel):
    old_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=1, max_length=128, description="8+ characters, letters and digits")


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        401: {"description": "Wrong old password (counts towards the lockout)"},
        422: {"description": "weak_password"},
        423: {"description": "Account locked"},
    },
)
async def change_password(body: PasswordChange, principal: CurrentPrincipal, auth: AuthDep) -> Response:
    """Change one's own password (teachers must replace the initial one after the first login)."""
    await auth.change_password(principal, body.old_password, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/teachers/{ce_number}/password-reset",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "No such teacher in the caller's school"}},
)
async def reset_teacher_password(ce_number: str, principal: CurrentPrincipal, auth: AuthDep) -> Response:
    """A school admin resets a teacher's (or the principal's) forgotten password to the initial one."""
    await auth.reset_teacher_password(principal, ce_number)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
