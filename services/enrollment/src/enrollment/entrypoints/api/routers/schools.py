from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field, field_validator

from enrollment.entrypoints.api.deps import RosterDep
from enrollment.service_layer.roster import NewSchool
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.names import Name
from jijiao_kit.paging import Skip

router = APIRouter(prefix="/v1/schools", tags=["schools"])

Mobile = Field(pattern=r"^1\d{10}$", description="11-digit mainland mobile number")


class SchoolIn(BaseModel):
    """The seven required fields of a school record (§1) plus its district."""

    name: Name = Field(min_length=1, max_length=100, description="学校名称")
    school_type: str = Field(min_length=1, max_length=50, description="办学类型")
    seal_name: Name = Field(min_length=1, max_length=100, description="学校公章名 (payer on payment notices)")
    town: str = Field(min_length=1, max_length=50, description="所在镇街")
    nature: str = Field(min_length=1, max_length=50, description="学校性质")
    head_name: Name = Field(min_length=1, max_length=50, description="负责人姓名")
    head_mobile: str = Mobile
    district: str = Field(min_length=1, max_length=50, description="所在区")


class SchoolOut(SchoolIn):
    id: str
    created_at: datetime
    principal_ce_number: str | None = Field(default=None, description="the one authorised principal (校长)")

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value

    @classmethod
    def of(cls, doc: dict[str, Any]) -> SchoolOut:
        return cls(id=doc["_id"], **{k: v for k, v in doc.items() if k in cls.model_fields and k != "id"})


class PrincipalIn(BaseModel):
    ce_number: str = Field(min_length=1, max_length=20, description="a teacher of this school (授权校长)")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SchoolOut)
async def create_school(body: SchoolIn, principal: CurrentPrincipal, roster: RosterDep) -> SchoolOut:
    school = await roster.create_school(principal, NewSchool(**body.model_dump()))
    return SchoolOut.of(school)


@router.get("", response_model=list[SchoolOut])
async def list_schools(
    principal: CurrentPrincipal,
    roster: RosterDep,
    district: str | None = Query(default=None, max_length=50),
    limit: int = Query(default=200, ge=1, le=1000),
    skip: Skip = 0,
) -> list[SchoolOut]:
    """Schools by district: the city sees all, a district admin its district, a school admin its school."""
    return [SchoolOut.of(doc) for doc in await roster.list_schools(principal, district, limit=limit, skip=skip)]


@router.get("/{school_id}", response_model=SchoolOut)
async def get_school(school_id: str, principal: CurrentPrincipal, roster: RosterDep) -> SchoolOut:
    return SchoolOut.of(await roster.get_school(principal, school_id))


@router.put(
    "/{school_id}/principal",
    response_model=SchoolOut,
    responses={409: {"description": "principal_exists: revoke the current principal first"}},
)
async def authorise_principal(
    school_id: str, body: PrincipalIn, principal: CurrentPrincipal, roster: RosterDep
) -> SchoolOut:
    """授权校长: exactly one per school; the teacher's next token carries role "principal"."""
    return SchoolOut.of(await roster.authorise_principal(principal, school_id, body.ce_number.strip()))


@router.delete("/{school_id}/principal", response_model=SchoolOut)
async def revoke_principal(school_id: str, principal: CurrentPrincipal, roster: RosterDep) -> SchoolOut:
    return SchoolOut.of(await roster.revoke_principal(principal, school_id))
