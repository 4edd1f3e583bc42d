from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.timeutil import BoundedUtcDateTime
from studio.domain.recruitment import ApplicantRole
from studio.entrypoints.api.deps import RecruitmentDep
from studio.service_layer.recruitment import NewApplication, NewRecruitment

router = APIRouter(prefix="/v1/recruitments", tags=["recruitments"])


class WindowIn(BaseModel):
    start: BoundedUtcDateTime
    end: BoundedUtcDateTime


class RecruitmentIn(BaseModel):
    cycle_start_year: int = Field(ge=2000, le=2100)
    apply: WindowIn = Field(description="报名时间")
    rounds: list[WindowIn] = Field(min_length=3, max_length=3, description="第一、二、三志愿审核时间")


class RoundWindowOut(BaseModel):
    from_ms: int
    to_ms: int


class RecruitmentOut(BaseModel):
    id: str
    cycle_start_year: int
    apply_from_ms: int
    apply_to_ms: int
    rounds: list[RoundWindowOut]
    applying: bool
    round: int | None
    finished: bool


class FormIn(BaseModel):
    """报名表: stage, subject, title, age, teaching years, papers, books, projects."""

    stage: str = Field(min_length=1, max_length=20)
    subject: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1, max_length=40, description="职称")
    age: int = Field(ge=18, le=80)
    teaching_years: int = Field(ge=0, le=60)
    papers: list[str] = Field(default=[], max_length=50)
    books: list[str] = Field(default=[], max_length=50)
    projects: list[str] = Field(default=[], max_length=50)


class ApplicationIn(BaseModel):
    role: ApplicantRole
    preferences: list[str] = Field(min_length=1, max_length=3, description="志愿，按顺序")
    form: FormIn


class MyApplicationOut(BaseModel):
    id: str
    role: str
    preferences: list[str]
    status: str
    studio_id: str | None = None
    form: dict[str, Any]


class ShortStudioOut(BaseModel):
    id: str
    name: str
    members: int
    minimum: int


class ShortOut(BaseModel):
    final: bool
    studios: list[ShortStudioOut]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=RecruitmentOut)
async def open_recruitment(body: RecruitmentIn, principal: CurrentPrincipal, service: RecruitmentDep) -> dict[str, Any]:
    r = body.rounds
    new = NewRecruitment(
        cycle_start_year=body.cycle_start_year,
        apply=(body.apply.start, body.apply.end),
        rounds=((r[0].start, r[0].end), (r[1].start, r[1].end), (r[2].start, r[2].end)),
    )
    return await service.open(principal, new)


@router.get("/{recruitment_id}", response_model=RecruitmentOut)
async def get_recruitment(recruitment_id: str, principal: CurrentPrincipal, service: RecruitmentDep) -> dict[str, Any]:
    return await service.get(principal, recruitment_id)


@router.post("/{recruitment_id}/applications", status_code=status.HTTP_201_CREATED, response_model=MyApplicationOut)
async def apply(
    recruitment_id: str, body: ApplicationIn, principal: CurrentPrincipal, service: RecruitmentDep
) -> dict[str, Any]:
    new = NewApplication(role=body.role, preferences=body.preferences, form=body.form.model_dump())
    doc = await service.apply(principal, recruitment_id, new)
    return {**doc, "id": doc["_id"]}


@router.get("/{recruitment_id}/applications/mine", response_model=MyApplicationOut)
async def my_application(recruitment_id: str, principal: CurrentPrincipal, service: RecruitmentDep) -> dict[str, Any]:
    doc = await service.mine(principal, recruitment_id)
    return {**doc, "id": doc["_id"]}


@router.get("/{recruitment_id}/short-studios", response_model=ShortOut)
async def short_studios(recruitment_id: str, principal: CurrentPrincipal, service: RecruitmentDep) -> dict[str, Any]:
    return await service.short_studios(principal, recruitment_id)
