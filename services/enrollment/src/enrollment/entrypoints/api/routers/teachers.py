from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, EmailStr, Field

from enrollment.entrypoints.api.deps import RosterDep
from enrollment.service_layer.access import can_read_teacher
from enrollment.service_layer.roster import NewTeacher
from jijiao_contracts.enums import Stage
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.errors import NotFound

router = APIRouter(tags=["teachers"])


class TeacherIn(BaseModel):
    name: str = Field(min_length=1, max_length=50, description="姓名")
    id_number: str = Field(min_length=18, max_length=18, description="18-character national ID (身份证号)")
    mobile: str = Field(pattern=r"^1\d{10}$", description="手机号码")
    gender: Literal["male", "female"] | None = None
    email: EmailStr | None = None
    subject: str | None = Field(default=None, max_length=30, description="任教学科")
    stage: Stage | None = Field(default=None, description="学段")
    title: str | None = Field(default=None, max_length=30, description="职称")


class TeacherOut(BaseModel):
    ce_number: str
    name: str
    id_number: str
    mobile: str
    gender: str | None
    email: str | None
    subject: str | None
    stage: str | None
    title: str | None
    school_id: str
    school_name: str
    district: str
    status: str
    special_user: bool
    created_at: datetime

    @classmethod
    def of(cls, doc: dict[str, Any]) -> TeacherOut:
        fields = {k: v for k, v in doc.items() if k in cls.model_fields}
        return cls(ce_number=doc["_id"], **fields)


@router.post(
    "/v1/schools/{school_id}/teachers",
    status_code=status.HTTP_201_CREATED,
    response_model=TeacherOut,
    responses={409: {"description": "The person already has a CE number (use a transfer)"}},
)
async def add_teacher(school_id: str, body: TeacherIn, principal: CurrentPrincipal, roster: RosterDep) -> TeacherOut:
    data = body.model_dump()
    data["email"] = str(body.email) if body.email else None
    data["stage"] = body.stage.value if body.stage else None
    teacher = await roster.add_teacher(principal, school_id, NewTeacher(**data))
    return TeacherOut.of(teacher)


@router.get("/v1/schools/{school_id}/teachers", response_model=list[TeacherOut])
async def list_teachers(school_id: str, principal: CurrentPrincipal, roster: RosterDep) -> list[TeacherOut]:
    return [TeacherOut.of(doc) for doc in await roster.list_teachers(principal, school_id)]


@router.get("/v1/teachers/{ce_number}", response_model=TeacherOut)
async def get_teacher(ce_number: str, principal: CurrentPrincipal, roster: RosterDep) -> TeacherOut:
    teacher = await roster.get_teacher(ce_number)
    if teacher is None or not can_read_teacher(principal, teacher):
        raise NotFound(f"Teacher {ce_number} not found.", code="teacher_not_found", title="教师不存在")
    return TeacherOut.of(teacher)
