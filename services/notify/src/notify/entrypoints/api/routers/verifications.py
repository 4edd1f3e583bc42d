from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from jijiao_kit.auth import CurrentPrincipal
from notify.entrypoints.api.deps import ContainerDep

router = APIRouter(prefix="/v1/verifications", tags=["verifications"])


class VerificationIn(BaseModel):
    purpose: str = Field(min_length=1, max_length=40, description="export, view_sensitive, rebind_phone, ...")
    new_mobile: str | None = Field(default=None, pattern=r"^1\d{10}$", description="Only for rebind_phone")


class VerificationOut(BaseModel):
    id: str
    masked_mobile: str
    expires_at: datetime


class CheckIn(BaseModel):
    code: str = Field(pattern=r"^\d{6}$")


class StepUpOut(BaseModel):
    step_up_token: str
    purpose: str
    expires_at: datetime


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=VerificationOut,
    operation_id="request_verification",
    responses={429: {"description": "Resend within 60 s or hourly cap; see Retry-After"}},
)
async def request_verification(body: VerificationIn, principal: CurrentPrincipal, container: ContainerDep) -> Any:
    """Send a 6-digit code to the caller's bound mobile (re-binding: to the new mobile)."""
    return await container.verifications.request(principal, body.purpose, body.new_mobile)


@router.post(
    "/{verification_id}/check",
    response_model=StepUpOut,
    operation_id="check_verification",
    responses={410: {"description": "Expired, or too many wrong codes"}, 409: {"description": "Already used"}},
)
async def check_verification(
    verification_id: str, body: CheckIn, principal: CurrentPrincipal, container: ContainerDep
) -> Any:
    """Check the code; returns a step-up token valid 30 minutes (header X-Step-Up-Token elsewhere)."""
    return await container.verifications.check(principal, verification_id, body.code)
