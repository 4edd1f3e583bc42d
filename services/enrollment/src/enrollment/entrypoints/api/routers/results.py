"""Results, learning progress, result certificates and per-course pass rates (DOMAIN §4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, Field

from enrollment.entrypoints.api.deps import ContainerDep
from enrollment.service_layer.results import ResultsService
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.http import content_disposition
from jijiao_kit.stepup import ExportPrincipal
from jijiao_kit.timeutil import as_utc

router = APIRouter(tags=["results"])


def service(container: ContainerDep) -> ResultsService:
    return container.results


ResultsDep = Annotated[ResultsService, Depends(service)]


class ResultIn(BaseModel):
    ce_number: str = Field(min_length=1, max_length=32, description="继续教育学号")
    course_code: str = Field(min_length=1, max_length=32)
    passed: bool


class ResultOut(BaseModel):
    result_id: str = Field(description="The selection id (one result per selection)")
    term: str
    ce_number: str
    name: str | None
    course_code: str
    course_name: str | None
    programme: str | None
    hour_type: str | None
    hours: float | None
    result: str | None = Field(description="passed | failed | null (no result yet)")
    registered_at: datetime | None
    learning_started: bool
    paid: bool

    @classmethod
    def of(cls, doc: dict[str, Any]) -> ResultOut:
        registered = as_utc((doc.get("result_detail") or {}).get("registered_at") or doc.get("result_registered_at"))
        return cls(
            result_id=doc["_id"],
            term=doc["term"],
            ce_number=doc["ce_number"],
            name=doc.get("name"),
            course_code=doc["course_code"],
            course_name=doc.get("course_name"),
            programme=doc.get("programme"),
            hour_type=doc.get("hour_type"),
            hours=float(doc["hours"]) if doc.get("hours") is not None else None,
            result=doc.get("result"),
            registered_at=registered.astimezone(UTC) if registered else None,
            learning_started=bool(doc.get("learning_started")),
            paid=bool(doc.get("paid")),
        )


class RegisteredOut(ResultOut):
    changed: bool = Field(description="False when the same result was registered before (nothing changed)")


class LearningRecord(BaseModel):
    ce_number: str = Field(min_length=1, max_length=32)
    course_code: str = Field(min_length=1, max_length=32)


class LearningIn(BaseModel):
    records: list[LearningRecord] = Field(min_length=1, max_length=5000)


class LearningRowOut(BaseModel):
    index: int
    ce_number: str
    course_code: str
    outcome: str = Field(description="started | already (reported before) | missing (no active selection)")


class CourseStatOut(BaseModel):
    course_code: str
    course_name: str | None
    passed: int = Field(description="通过人数")
    not_passed: int = Field(description="未通过人数")
    total: int = Field(description="总人数")
    pass_rate: float | None = Field(description="学员通过率 = passed / total (0..1); null when nobody selected")


@router.post(
    "/v1/terms/{term}/results",
    response_model=RegisteredOut,
    status_code=status.HTTP_201_CREATED,
    operation_id="register_result",
    responses={200: {"description": "The same result was registered before; nothing changed"}},
)
async def register_result(
    term: str, body: ResultIn, principal: CurrentPrincipal, svc: ResultsDep, response: Response
) -> RegisteredOut:
    registration = await svc.register(principal, term, body.ce_number, body.course_code, body.passed)
    if not registration.changed:
        response.status_code = status.HTTP_200_OK
    return RegisteredOut(**ResultOut.of(registration.selection).model_dump(), changed=registration.changed)


class ResultRowIn(ResultIn):
    pass


class ResultBatchIn(BaseModel):
    results: list[ResultRowIn] = Field(min_length=1, max_length=5000)


class ResultRowOut(BaseModel):
    index: int
    ce_number: str
    course_code: str
    outcome: str | None = Field(description="registered | unchanged; null when refused")
    code: str | None = Field(description="Why the row was refused (selection_not_found, not_course_institution, ...)")


@router.post("/v1/terms/{term}/results/batch", response_model=list[ResultRowOut], operation_id="register_results_batch")
async def register_results_batch(
    term: str, body: ResultBatchIn, principal: CurrentPrincipal, svc: ResultsDep
) -> list[ResultRowOut]:
    """Many results at once (an institution's whole course), one outcome per row."""
    rows = await svc.register_many(principal, term, [(r.ce_number, r.course_code, r.passed) for r in body.results])
    return [
        ResultRowOut(index=index, ce_number=ce, course_code=code, outcome=outcome, code=refusal)
        for index, ce, code, outcome, refusal in rows
    ]


@router.post("/v1/terms/{term}/learning-started", response_model=list[LearningRowOut], operation_id="learning_started")
async def learning_started(
    term: str, body: LearningIn, principal: CurrentPrincipal, svc: ResultsDep
) -> list[LearningRowOut]:
    """The learning platform's LearningStarted signal (or an operator's import), one outcome per row."""
    rows = await svc.learning_started(principal, term, [(r.ce_number, r.course_code) for r in body.records])
    return [
        LearningRowOut(index=r.index, ce_number=r.ce_number, course_code=r.course_code, outcome=r.outcome) for r in rows
    ]


@router.get("/v1/terms/{term}/results", response_model=list[ResultOut], operation_id="term_results")
async def term_results(
    term: str,
    principal: ExportPrincipal,
    svc: ResultsDep,
    school_id: str | None = None,
    course_code: str | None = None,
    result: Literal["passed", "failed", "none"] | None = None,
) -> list[ResultOut]:
    """学员成绩查询 within the caller's scope (a list of teachers' selections: needs the step-up token)."""
    docs = await svc.term_results(principal, term, school_id=school_id, course_code=course_code, result=result)
    return [ResultOut.of(doc) for doc in docs]


@router.get("/v1/teachers/{ce_number}/results", response_model=list[ResultOut], operation_id="teacher_results")
async def teacher_results(ce_number: str, principal: CurrentPrincipal, svc: ResultsDep) -> list[ResultOut]:
    """学习结果: the teacher's selections and results (a passed one has a certificate)."""
    return [ResultOut.of(doc) for doc in await svc.teacher_results(principal, ce_number)]


@router.get(
    "/v1/selections/{selection_id}/certificate.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    operation_id="result_certificate_pdf",
)
async def certificate(selection_id: str, principal: CurrentPrincipal, svc: ResultsDep) -> Response:
    """成绩打印: the result certificate of one passed course."""
    _selection, pdf = await svc.certificate(principal, selection_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": content_disposition(f"certificate-{selection_id}.pdf")},
    )


@router.get(
    "/v1/terms/{term}/statistics/courses", response_model=list[CourseStatOut], operation_id="course_pass_statistics"
)
async def course_statistics(
    term: str, principal: CurrentPrincipal, svc: ResultsDep, programme: str | None = None, school_id: str | None = None
) -> list[CourseStatOut]:
    """课程通过率统计 within the caller's scope."""
    stats = await svc.course_stats(principal, term, programme=programme, school_id=school_id)
    return [
        CourseStatOut(
            course_code=s.course_code,
            course_name=s.course_name,
            passed=s.passed,
            not_passed=s.not_passed,
            total=s.total,
            pass_rate=s.pass_rate,
        )
        for s in stats
    ]
