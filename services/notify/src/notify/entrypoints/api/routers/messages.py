from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.timeutil import BoundedDate
from notify.entrypoints.api.deps import ContainerDep

router = APIRouter(prefix="/v1/messages", tags=["messages"])


class MessageOut(BaseModel):
    id: str
    to: str
    channel: str
    template: str
    template_version: int
    text: str
    email_subject: str | None = None
    length: int
    segments: int
    status: str
    attempts: int
    last_error: str | None = None
    #: Set when the notice could not be sent at all: ``no_address`` (the contact has no address for the
    #: channel) or ``no_contact`` (the recipient is not in the contact book); ``to`` is then empty.
    error_code: str | None = None
    subject: str | None = None
    errors: list[str] = []
    cause_id: str | None = None
    created_at: datetime
    updated_at: datetime | None = None
    next_attempt_at: datetime | None = None
    deferred_until: datetime | None = None
    sent_at: datetime | None = None
    failed_at: datetime | None = None


class StatsRow(BaseModel):
    day: date
    template: str
    channel: str
    total: int
    segments: int
    by_status: dict[str, int]


class StatsOut(BaseModel):
    since: date
    until: date
    rows: list[StatsRow]


@router.get("", response_model=list[MessageOut], operation_id="list_messages")
async def list_messages(
    principal: CurrentPrincipal,
    container: ContainerDep,
    to: Annotated[str | None, Query(min_length=3, max_length=254, description="Mobile number or email address")] = None,
    subject: Annotated[
        str | None, Query(min_length=3, max_length=200, description="Recipient, e.g. teacher:<ce_number>")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Newest first")] = 100,
) -> list[dict[str, Any]]:
    """The delivery log of one recipient, by address and/or subject (admins within their scope, or the
    recipient themself). By subject it includes notices that had no address to go to."""
    return await container.delivery_log.list_messages(principal, to=to, subject=subject, limit=limit)


@router.get("/stats", response_model=StatsOut, operation_id="message_stats")
async def message_stats(
    principal: CurrentPrincipal,
    container: ContainerDep,
    since: Annotated[BoundedDate | None, Query(description="First day (local), default 6 days before until")] = None,
    until: Annotated[BoundedDate | None, Query(description="Last day (local), default today")] = None,
) -> dict[str, Any]:
    """Notices per day, template and channel, by status (admins, within their scope)."""
    return await container.delivery_log.stats(principal, since, until)
