from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, EmailStr, Field

from baseline.service_layer.zones import NewZone, ZoneService
from jijiao_kit.auth import CurrentPrincipal

router = APIRouter(prefix="/v1/zones", tags=["zones"])


def get_zones(request: Request) -> ZoneService:
    service: ZoneService = request.app.state.container.zones
    return service


ZonesDep = Annotated[ZoneService, Depends(get_zones)]


class ZoneIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="实验区名称")
    contact_name: str = Field(min_length=1, max_length=50, description="联系人")
    contact_mobile: str = Field(pattern=r"^1\d{10}$")
    contact_email: EmailStr | None = None
    academic_year: int = Field(ge=2000, le=2100, description="学年 (e.g. 2026 for 2026–2027)")


class ContactOut(BaseModel):
    name: str
    mobile: str
    email: str | None


class QuotaOut(BaseModel):
    batches: int
    batch_size: int
    reward_batches: int
    person_times: int
    allocated_batches: int


class ZoneOut(BaseModel):
    id: str
    name: str
    contact: ContactOut
    quotas: dict[str, QuotaOut]
    created_at: datetime


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ZoneOut)
async def create_zone(body: ZoneIn, principal: CurrentPrincipal, zones: ZonesDep) -> dict[str, Any]:
    new = NewZone(
        name=body.name,
        contact_name=body.contact_name,
        contact_mobile=body.contact_mobile,
        contact_email=str(body.contact_email) if body.contact_email else None,
        academic_year=body.academic_year,
    )
    zone = await zones.create(principal, new)
    return {**zone, "id": zone["_id"]}


@router.get("/{zone_id}", response_model=ZoneOut)
async def get_zone(zone_id: str, principal: CurrentPrincipal, zones: ZonesDep) -> dict[str, Any]:
    zone = await zones.get(principal, zone_id)
    return {**zone, "id": zone["_id"]}
