from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from jijiao_kit.auth import CurrentPrincipal
from studio.domain.studios import StudioType
from studio.entrypoints.api.deps import StudiosDep
from studio.service_layer.studios import NewStudio

router = APIRouter(prefix="/v1/studios", tags=["studios"])


class StudioIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="工作室名称")
    type: StudioType
    host_ce_number: str = Field(min_length=1, max_length=20, description="主持人继续教育学号")
    cycle_start_year: int = Field(ge=2000, le=2100)
    cycle_years: int = Field(default=3, ge=1, le=5)
    stage: str | None = None
    subject: str | None = None


class QuotaOut(BaseModel):
    min: int
    max: int


class StudioOut(BaseModel):
    id: str
    name: str
    type: StudioType
    host_ce_number: str
    host_name: str
    cycle_start_year: int
    cycle_end_year: int
    stage: str | None
    subject: str | None
    member_quota: QuotaOut
    members: int
    has_assistants: bool
    created_at: datetime


def studio_out(doc: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "id": doc["_id"]}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=StudioOut)
async def found_studio(body: StudioIn, principal: CurrentPrincipal, studios: StudiosDep) -> dict[str, Any]:
    new = NewStudio(
        name=body.name,
        studio_type=body.type,
        host_ce_number=body.host_ce_number,
        cycle_start_year=body.cycle_start_year,
        cycle_years=body.cycle_years,
        stage=body.stage,
        subject=body.subject,
    )
    return studio_out(await studios.found(principal, new))


@router.get("/{studio_id}", response_model=StudioOut)
async def get_studio(studio_id: str, principal: CurrentPrincipal, studios: StudiosDep) -> dict[str, Any]:
    return studio_out(await studios.get(principal, studio_id))
