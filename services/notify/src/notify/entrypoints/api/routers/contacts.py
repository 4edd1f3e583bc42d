from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from jijiao_kit.auth import CurrentPrincipal
from notify.entrypoints.api.deps import ContainerDep

router = APIRouter(prefix="/v1/contacts/me", tags=["contacts"])


class OptOut(BaseModel):
    sms: bool = False
    email: bool = False


class ContactOut(BaseModel):
    subject: str
    name: str | None
    mobile: str | None
    email: str | None
    opt_out: OptOut
    updated_at: datetime | None


class OptOutIn(BaseModel):
    sms: bool | None = None
    email: bool | None = None


@router.get("", response_model=ContactOut, operation_id="my_contact")
async def my_contact(principal: CurrentPrincipal, container: ContainerDep) -> Any:
    """The caller's entry in the contact book and their opt-outs."""
    return await container.contacts_service.mine(principal)


@router.patch("/opt-out", response_model=ContactOut, operation_id="set_my_opt_out")
async def set_opt_out(body: OptOutIn, principal: CurrentPrincipal, container: ContainerDep) -> Any:
    """Opt out of (true) or back into (false) non-essential notices per channel. Essential notices
    (verification codes, account locked, payment, special user) are always sent."""
    changes = {k: v for k, v in body.model_dump().items() if v is not None}
    return await container.contacts_service.set_opt_out(principal, changes)
