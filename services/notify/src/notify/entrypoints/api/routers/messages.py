from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from jijiao_contracts.enums import Role
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.errors import Forbidden

router = APIRouter(prefix="/v1/messages", tags=["messages"])

ADMIN_ROLES = (Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.SCHOOL_ADMIN)


class MessageOut(BaseModel):
    id: str
    to: str
    channel: str
    template: str
    text: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None = None


@router.get("", response_model=list[MessageOut])
async def list_messages(
    request: Request,
    principal: CurrentPrincipal,
    to: Annotated[str, Query(min_length=3, max_length=254, description="Mobile number or email address")],
) -> list[dict[str, Any]]:
    if not principal.has_role(*ADMIN_ROLES) and principal.scopes.get("mobile") != to:
        raise Forbidden("You may only read your own messages.", code="messages_forbidden", title="只能查看本人的消息")
    docs = await request.app.state.container.messages.list_to(to)
    return [{**doc, "id": doc["_id"]} for doc in docs]
