"""Ability-improvement project (提升工程): pilot scope, diagnostic assessment, plan, status, retakes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from enrollment.domain.terms import aware
from enrollment.entrypoints.api.deps import ContainerDep
from enrollment.service_layer.ability import Attempt
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.timeutil import BoundedDate, BoundedDateTime

router = APIRouter(tags=["ability"])


class PilotIn(BaseModel):
    subjects: list[str] = Field(max_length=60, description="试点学科")


class PilotOut(BaseModel):
    term: str
    district: str
    subjects: list[str]


class AttemptIn(BaseModel):
    started_at: BoundedDateTime = Field(description="测评开始")
    finished_at: BoundedDateTime = Field(description="测评完成 (>= 20 minutes later)")
    score: float = Field(ge=0, le=100)
    level: str | None = Field(default=None, max_length=30, description="测评结果等级")


class ConfirmAttemptIn(BaseModel):
    attempt: int = Field(ge=1, le=3)


class Diagnostics(BaseModel):
    attempts_used: int
    attempts: dict[str, dict[str, Any]]
    confirmed_attempt: int | None

    @classmethod
    def of(cls, doc: dict[str, Any]) -> Diagnostics:
        attempts = {
            number: {
                key: aware(value).isoformat() if isinstance(value, datetime) or key.endswith("_at") else value
                for key, value in item.items()
            }
            for number, item in (doc.get("attempts") or {}).items()
        }
        return cls(
            attempts_used=doc.get("attempts_used", 0), attempts=attempts, confirmed_attempt=doc.get("confirmed_attempt")
        )


class PlanIn(BaseModel):
    optional_course_codes: list[str] = Field(
        default_factory=list, max_length=100, description="任意选修 (course by course)"
    )
    optional_series: list[str] = Field(default_factory=list, max_length=50, description="任意选修 (whole series)")


class RetakesIn(BaseModel):
    study_starts_on: BoundedDate
    study_ends_on: BoundedDate


class RetakeResultIn(BaseModel):
    passed: bool


def _plain(doc: dict[str, Any]) -> dict[str, Any]:
    """A retake as JSON: times as ISO 8601 with offset (the store may return ``$set`` times as
    strings and ``$set`` booleans as 1/0)."""
    out = {("id" if key == "_id" else key): value for key, value in doc.items()}
    for key, value in out.items():
        if isinstance(value, datetime) or (isinstance(value, str) and (key.endswith("_at") or key.endswith("_on"))):
            out[key] = aware(value).isoformat()
    if out.get("passed") is not None:
        out["passed"] = bool(out["passed"])
    return out


@router.put("/v1/terms/{term}/ability/pilots/{district}", response_model=PilotOut, operation_id="set_ability_pilot")
async def set_pilot(
    term: str, district: str, body: PilotIn, principal: CurrentPrincipal, container: ContainerDep
) -> PilotOut:
    doc = await container.ability_service.set_pilot(principal, term, district, body.subjects)
    return PilotOut(term=doc["term"], district=doc["district"], subjects=doc["subjects"])


@router.get("/v1/terms/{term}/ability/pilots", response_model=list[PilotOut], operation_id="list_ability_pilots")
async def pilots(term: str, principal: CurrentPrincipal, container: ContainerDep) -> list[PilotOut]:
    return [
        PilotOut(term=d["term"], district=d["district"], subjects=d["subjects"])
        for d in await container.ability_service.pilots(term)
    ]


@router.post(
    "/v1/terms/{term}/ability/teachers/{ce_number}/diagnostics",
    status_code=status.HTTP_201_CREATED,
    response_model=Diagnostics,
    operation_id="record_diagnostic_attempt",
)
async def record_attempt(
    term: str, ce_number: str, body: AttemptIn, principal: CurrentPrincipal, container: ContainerDep
) -> Diagnostics:
    """诊断测评: one completed attempt (at most 3; none after the result is confirmed)."""
    doc = await container.ability_service.record_attempt(principal, term, ce_number, Attempt(**body.model_dump()))
    return Diagnostics.of(doc)


@router.post(
    "/v1/terms/{term}/ability/teachers/{ce_number}/diagnostics/confirm",
    response_model=Diagnostics,
    operation_id="confirm_diagnostic",
)
async def confirm_attempt(
    term: str, ce_number: str, body: ConfirmAttemptIn, principal: CurrentPrincipal, container: ContainerDep
) -> Diagnostics:
    return Diagnostics.of(await container.ability_service.confirm_attempt(principal, term, ce_number, body.attempt))


@router.get(
    "/v1/terms/{term}/ability/teachers/{ce_number}/diagnostics",
    response_model=Diagnostics,
    operation_id="get_diagnostics",
)
async def diagnostics(term: str, ce_number: str, principal: CurrentPrincipal, container: ContainerDep) -> Diagnostics:
    return Diagnostics.of(await container.ability_service.diagnostics(principal, term, ce_number))


@router.get("/v1/terms/{term}/ability/teachers/{ce_number}/plan", operation_id="get_ability_plan")
async def proposal(term: str, ce_number: str, principal: CurrentPrincipal, container: ContainerDep) -> dict[str, Any]:
    """The compulsory courses (pre-selected, locked), recommended optional courses (total <= 60 h)
    and the other optional courses ("re-select")."""
    return await container.ability_service.proposal(principal, term, ce_number)


@router.post("/v1/terms/{term}/ability/teachers/{ce_number}/plan/confirm", operation_id="confirm_ability_plan")
async def confirm_plan(
    term: str, ce_number: str, body: PlanIn, principal: CurrentPrincipal, container: ContainerDep
) -> dict[str, Any]:
    """确认选课 (>= 50 h): selects the compulsory and the chosen optional courses together."""
    return await container.ability_service.confirm_plan(
        principal, term, ce_number, body.optional_course_codes, body.optional_series
    )


@router.put("/v1/terms/{term}/ability/teachers/{ce_number}/plan/optional", operation_id="change_ability_optional")
async def change_optional(
    term: str, ce_number: str, body: PlanIn, principal: CurrentPrincipal, container: ContainerDep
) -> dict[str, Any]:
    """Change the optional courses inside the window (the total stays >= 50 h)."""
    return await container.ability_service.change_optional(
        principal, term, ce_number, body.optional_course_codes, body.optional_series
    )


@router.get("/v1/terms/{term}/ability/teachers/{ce_number}/status", operation_id="ability_status")
async def ability_status(
    term: str, ce_number: str, principal: CurrentPrincipal, container: ContainerDep
) -> dict[str, Any]:
    """达标情况: obtained hours, compulsory passed, programme passed."""
    return await container.ability_service.status(principal, term, ce_number)


class CourseResultIn(BaseModel):
    ce_number: str = Field(min_length=1, max_length=32)
    course_code: str = Field(min_length=1, max_length=64)
    compulsory_done: int = Field(ge=0, description="必修活动完成数")
    compulsory_total: int = Field(ge=0, description="必修活动总数")
    assignment_passed: bool | None = Field(None, description="作业是否合格 (courses with an assignment)")


@router.post("/v1/terms/{term}/ability/results", operation_id="register_ability_course_result")
async def course_result(
    term: str, body: CourseResultIn, principal: CurrentPrincipal, container: ContainerDep
) -> dict[str, Any]:
    """An ability course's result computed by the §2a rule (>= 60 % of the compulsory activities, plus
    the assignment where the course has one) and registered like any result."""
    return await container.ability_service.course_result(
        principal,
        term,
        body.ce_number,
        body.course_code,
        compulsory_done=body.compulsory_done,
        compulsory_total=body.compulsory_total,
        assignment_passed=body.assignment_passed,
    )


@router.post("/v1/terms/{term}/ability/retakes", operation_id="open_ability_retakes")
async def open_retakes(
    term: str, body: RetakesIn, principal: CurrentPrincipal, container: ContainerDep
) -> dict[str, Any]:
    """重修: reopen failed ability courses of earlier terms with this study period (city admin)."""
    return await container.ability_service.open_retakes(principal, term, body.study_starts_on, body.study_ends_on)


@router.get("/v1/terms/{term}/ability/retakes", operation_id="list_ability_retakes")
async def retakes(
    term: str, principal: CurrentPrincipal, container: ContainerDep, ce_number: str | None = None
) -> list[dict[str, Any]]:
    return [_plain(doc) for doc in await container.ability_service.retakes(principal, term, ce_number)]


@router.post("/v1/terms/{term}/ability/retakes/{retake_id}/result", operation_id="register_retake_result")
async def retake_result(
    term: str, retake_id: str, body: RetakeResultIn, principal: CurrentPrincipal, container: ContainerDep
) -> dict[str, Any]:
    return _plain(await container.ability_service.retake_result(principal, term, retake_id, body.passed))
