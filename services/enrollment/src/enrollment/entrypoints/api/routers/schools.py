from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from enrollment.entrypoints.api.deps import RosterDep
from enrollment.service_layer.roster import NewSchool
from jijiao_kit.auth import CurrentPrincipal

router = APIRouter(prefix="/v1/schools", tags=["schools"])

Mobile = Field(pattern=r"^1\d{10}$", description="11-digit mainland mobile number")


class SchoolIn(BaseModel):
    """The seven required fields of a school record (§1) plus its district."""

    name: str = Field(min_length=1, max_length=100, description="学校名称")
    school_type: str = Field(min_length=1, max_length=50, description="办学类型")
    seal_name: str = Field(min_length=1, max_length=100, description="学校公章名 (payer on payment notices)")
    town: str = Field(min_length=1, max_length=50, description="所在镇街")
    nature: str = Field(min_length=1, max_length=50, description="学校性质")
    head_name: str = Field(min_length=1, max_length=50, description="负责人姓名")
    head_mobile: str = Mobile
    district: str = Field(min_length=1, max_length=50, description="所在区")


class SchoolOut(SchoolIn):
    id: str
    created_at: datetime

    @classmethod
    def of(cls, doc: dict[str, Any]) -> SchoolOut:
        return cls(id=doc["_id"], **{k: v for k, v in doc.items() if k in cls.model_fields and k != "id"})


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SchoolOut)
async def create_school(body: SchoolIn, principal: CurrentPrincipal, roster: RosterDep) -> SchoolOut:
    school = await roster.create_school(principal, NewSchool(**body.model_dump()))
    return SchoolOut.of(school)


@router.get("/{school_id}", response_model=SchoolOut)
async def get_school(school_id: str, principal: CurrentPrincipal, roster: RosterDep) -> SchoolOut:
    return SchoolOut.of(await roster.get_school(principal, school_id))
