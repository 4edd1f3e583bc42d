from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from enrollment.entrypoints.api.deps import AuthDep

router = APIRouter(prefix="/v1/auth", tags=["auth"])


class TokenRequest(BaseModel):
    login: str = Field(min_length=1, max_length=64, description="Account name, CE number, ID number or mobile")
    password: str = Field(min_length=1, max_length=128)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    must_change_password: bool = False


@router.post(
    "/token",
    response_model=TokenResponse,
    responses={401: {"description": "Wrong login or password"}, 423: {"description": "Account locked"}},
)
async def issue_token(body: TokenRequest, auth: AuthDep) -> TokenResponse:
    issued = await auth.login(body.login, body.password)
    return TokenResponse(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        must_change_password=issued.must_change_password,
    )
