from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.errors import NotFound
from notify.entrypoints.api.deps import ContainerDep

router = APIRouter(prefix="/v1/dev", tags=["development"])


class SinkSmsOut(BaseModel):
    id: str
    to: str
    text: str
    length: int
    segments: int
    received_at: datetime


@router.get("/sms", response_model=list[SinkSmsOut], operation_id="list_sink_sms")
async def list_sink_sms(
    principal: CurrentPrincipal,
    container: ContainerDep,
    to: Annotated[str, Query(min_length=3, max_length=20, description="Mobile number")],
) -> list[dict[str, Any]]:
    """What the development SMS sink received for a number (only while SMS_BACKEND=sink): the phone."""
    if container.settings.sms_backend != "sink":
        raise NotFound("The development sink is off.", code="sink_disabled", title="开发短信收件箱未启用")
    return await container.delivery_log.sink_to(principal, to)
