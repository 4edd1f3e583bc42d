from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.timeutil import UtcDateTime
from studio.domain.recruitment import Decision
from studio.domain.studios import StudioType
from studio.entrypoints.api.deps import RecruitmentDep, StudiosDep
from studio.service_layer.studios import NewStudio

router = APIRouter(prefix="/v1/studios", tags=["studios"])

CeNumber = Field(min_length=1, max_length=20, pattern=r"^[0-9A-Za-z]+$", description="继续教育学号")


class StudioIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="工作室名称")
    type: StudioType
    host_ce_number: str = CeNumber
    cycle_start_year: int = Field(ge=2000, le=2100)
    cycle_years: int = Field(default=3, ge=1, le=5)
    stage: str | None = Field(default=None, max_length=20)
    subject: str | None = Field(default=None, max_length=40)
    student_cap: int = Field(default=50, ge=0, le=1000, description="网络学员上限")


class HostIn(BaseModel):
    host_ce_number: str = CeNumber


class QuotaOut(BaseModel):
    min: int
    max: int


class CountsOut(BaseModel):
    members: int
    online_students: int
    pending_applications: int
    published_activities: int
    unfinished_yearly_tasks: int


class StudioOut(BaseModel):
    id: str
    name: str
    type: StudioType
    host_ce_number: str
    host_name: str
    school_name: str | None = None
    cycle_start_year: int
    cycle_end_year: int
    stage: str | None
    subject: str | None
    member_quota: QuotaOut
    members: int
    students: int = 0
    student_cap: int = 50
    has_assistants: bool
    created_at: UtcDateTime
    standing: str | None = None
    counts: CountsOut | None = None
    links: dict[str, str] = {}


class MemberOut(BaseModel):
    ce_number: str
    name: str | None = None
    role: str
    assistant: bool = False
    joined_ms: int


class ApplicationOut(BaseModel):
    id: str
    ce_number: str
    name: str | None = None
    role: str
    form: dict[str, Any]
    round: int
    status: str
    decision: str | None = None


class RoundOut(BaseModel):
    round: int | None
    applications: list[ApplicationOut]


class DecisionIn(BaseModel):
    decision: Decision


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
        student_cap=body.student_cap,
    )
    return studio_out(await studios.found(principal, new))


@router.get("", response_model=list[StudioOut])
async def list_studios(
    principal: CurrentPrincipal,
    studios: StudiosDep,
    hosted_by: Literal["me"] | None = Query(default=None, description="me: the host's workbench with counts"),
) -> list[dict[str, Any]]:
    return [studio_out(d) for d in await studios.listing(principal, hosted_by_me=hosted_by == "me")]


@router.get("/{studio_id}", response_model=StudioOut)
async def get_studio(studio_id: str, principal: CurrentPrincipal, studios: StudiosDep) -> dict[str, Any]:
    return studio_out(await studios.get(principal, studio_id))


@router.put("/{studio_id}/host", response_model=StudioOut)
async def change_host(studio_id: str, body: HostIn, principal: CurrentPrincipal, studios: StudiosDep) -> dict[str, Any]:
    return studio_out(await studios.change_host(principal, studio_id, body.host_ce_number))


@router.get("/{studio_id}/members", response_model=list[MemberOut])
async def list_members(
    studio_id: str,
    principal: CurrentPrincipal,
    studios: StudiosDep,
    role: Literal["member", "student"] | None = None,
) -> list[dict[str, Any]]:
    return await studios.members(principal, studio_id, role)


@router.put("/{studio_id}/members/{ce_number}/assistant", response_model=MemberOut)
async def make_assistant(
    studio_id: str, ce_number: str, principal: CurrentPrincipal, studios: StudiosDep
) -> dict[str, Any]:
    return await studios.set_assistant(principal, studio_id, ce_number, True)


@router.delete("/{studio_id}/members/{ce_number}/assistant", response_model=MemberOut)
async def unmake_assistant(
    studio_id: str, ce_number: str, principal: CurrentPrincipal, studios: StudiosDep
) -> dict[str, Any]:
    return await studios.set_assistant(principal, studio_id, ce_number, False)


@router.delete("/{studio_id}/students/{ce_number}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_student(studio_id: str, ce_number: str, principal: CurrentPrincipal, studios: StudiosDep) -> None:
    await studios.remove_student(principal, studio_id, ce_number)


@router.get("/{studio_id}/applications", response_model=RoundOut)
async def round_applications(
    studio_id: str, principal: CurrentPrincipal, recruitment: RecruitmentDep
) -> dict[str, Any]:
    number, docs = await recruitment.round_applications(principal, studio_id)
    return {"round": number, "applications": docs}


@router.post("/{studio_id}/applications/{application_id}/decision", response_model=ApplicationOut)
async def decide(
    studio_id: str, application_id: str, body: DecisionIn, principal: CurrentPrincipal, recruitment: RecruitmentDep
) -> dict[str, Any]:
    return await recruitment.decide(principal, studio_id, application_id, body.decision)
