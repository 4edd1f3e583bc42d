"""School-based courses (校本课程, DOMAIN §5): declare, edit until approved, review, enroll, results."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field

from enrollment.entrypoints.api.deps import ContainerDep
from enrollment.service_layer.school_courses import Declaration, Row, SchoolCourseService
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.names import Name
from jijiao_kit.timeutil import as_utc

router = APIRouter(tags=["school-based courses"])


def service(container: ContainerDep) -> SchoolCourseService:
    return container.school_courses


SchoolCoursesDep = Annotated[SchoolCourseService, Depends(service)]
CourseType = Literal["remote", "face_to_face", "micro"]


class DeclarationIn(BaseModel):
    name: Name = Field(min_length=1, max_length=100, description="课程名称")
    hours: float = Field(gt=0, le=100, description="学时 (elective; the hours bank caps school-based at 18 a year)")
    term: str | None = Field(default=None, pattern=r"^\d{4}$", description="期数; defaults to the current term")
    subject: str | None = Field(default=None, max_length=30)
    stage: str | None = Field(default=None, max_length=30)
    course_type: CourseType = "face_to_face"
    lecturer: str | None = Field(default=None, max_length=50, description="主讲教师")
    description: str | None = Field(default=None, max_length=2000)
    target: str | None = Field(default=None, max_length=100, description="培训对象")
    institution_id: str | None = Field(
        default=None, max_length=64, description="Reviewing institution (else the district)"
    )


class EditIn(BaseModel):
    name: Name | None = Field(default=None, min_length=1, max_length=100)
    hours: float | None = Field(default=None, gt=0, le=100)
    subject: str | None = Field(default=None, max_length=30)
    stage: str | None = Field(default=None, max_length=30)
    course_type: CourseType | None = None
    lecturer: str | None = Field(default=None, max_length=50)
    description: str | None = Field(default=None, max_length=2000)
    target: str | None = Field(default=None, max_length=100)


class ReviewIn(BaseModel):
    approved: bool
    comment: str | None = Field(default=None, max_length=500)


class SchoolCourseOut(BaseModel):
    term: str
    code: str
    name: str
    hours: float
    hour_type: str
    school_id: str
    district: str | None
    subject: str | None
    stage: str | None
    course_type: str | None
    lecturer: str | None
    declaration_status: str = Field(description="declared | approved | rejected")
    declared_at: datetime
    review_due_on: str | None
    reviewed_at: datetime | None
    review_comment: str | None
    editable: bool

    @classmethod
    def of(cls, doc: dict[str, Any]) -> SchoolCourseOut:
        review = doc.get("review") or {}
        reviewed = as_utc(review.get("at"))
        declared = as_utc(doc["declared_at"])
        assert declared is not None
        return cls(
            term=doc["term"],
            code=doc["code"],
            name=doc["name"],
            hours=float(doc["hours"]),
            hour_type=doc["hour_type"],
            school_id=doc["school_id"],
            district=doc.get("district"),
            subject=doc.get("subject"),
            stage=doc.get("stage"),
            course_type=doc.get("course_type"),
            lecturer=doc.get("lecturer"),
            declaration_status=doc["declaration_status"],
            declared_at=declared.astimezone(UTC),
            review_due_on=doc.get("review_due_on"),
            reviewed_at=reviewed.astimezone(UTC) if reviewed else None,
            review_comment=review.get("comment"),
            editable=doc["declaration_status"] in ("declared", "rejected"),
        )


class EnrollIn(BaseModel):
    ce_numbers: list[str] = Field(min_length=1, max_length=2000)


class ResultRowIn(BaseModel):
    ce_number: str = Field(min_length=1, max_length=32)
    passed: bool


class ResultsIn(BaseModel):
    results: list[ResultRowIn] = Field(min_length=1, max_length=2000)


class RowOut(BaseModel):
    index: int
    ce_number: str
    ok: bool
    code: str | None = Field(description="Why the row was refused (already_selected, special_user, ...)")
    selection_id: str | None

    @classmethod
    def of(cls, row: Row) -> RowOut:
        return cls(index=row.index, ce_number=row.ce_number, ok=row.ok, code=row.code, selection_id=row.selection_id)


@router.post(
    "/v1/schools/{school_id}/school-courses",
    response_model=SchoolCourseOut,
    status_code=status.HTTP_201_CREATED,
    operation_id="declare_school_course",
)
async def declare(
    school_id: str, body: DeclarationIn, principal: CurrentPrincipal, svc: SchoolCoursesDep
) -> SchoolCourseOut:
    """课程申报: by 31 December of the course's year."""
    data = body.model_dump(exclude={"term"})
    return SchoolCourseOut.of(await svc.declare(principal, school_id, Declaration(**data), body.term))


@router.get(
    "/v1/schools/{school_id}/school-courses", response_model=list[SchoolCourseOut], operation_id="list_school_courses"
)
async def list_courses(
    school_id: str, principal: CurrentPrincipal, svc: SchoolCoursesDep, term: str | None = None
) -> list[SchoolCourseOut]:
    return [SchoolCourseOut.of(doc) for doc in await svc.list_for_school(principal, school_id, term)]


@router.patch(
    "/v1/terms/{term}/school-courses/{code}", response_model=SchoolCourseOut, operation_id="edit_school_course"
)
async def edit(
    term: str, code: str, body: EditIn, principal: CurrentPrincipal, svc: SchoolCoursesDep
) -> SchoolCourseOut:
    """Edit a declaration (only until it is approved; a rejected one goes back to review)."""
    return SchoolCourseOut.of(await svc.edit(principal, term, code, body.model_dump(exclude_unset=True)))


@router.post(
    "/v1/terms/{term}/school-courses/{code}/review", response_model=SchoolCourseOut, operation_id="review_school_course"
)
async def review(
    term: str, code: str, body: ReviewIn, principal: CurrentPrincipal, svc: SchoolCoursesDep
) -> SchoolCourseOut:
    """The district (or the named institution) approves or rejects; approval emits SchoolCourseApproved."""
    return SchoolCourseOut.of(await svc.review(principal, term, code, approved=body.approved, comment=body.comment))


@router.post(
    "/v1/terms/{term}/school-courses/{code}/enrollments",
    response_model=list[RowOut],
    operation_id="enroll_school_course",
)
async def enroll(
    term: str, code: str, body: EnrollIn, principal: CurrentPrincipal, svc: SchoolCoursesDep
) -> list[RowOut]:
    """Bulk enrollment of the school's teachers (课程选教师); one result per teacher."""
    return [RowOut.of(row) for row in await svc.enroll(principal, term, code, body.ce_numbers)]


@router.post(
    "/v1/terms/{term}/school-courses/{code}/results", response_model=list[RowOut], operation_id="school_course_results"
)
async def results(
    term: str, code: str, body: ResultsIn, principal: CurrentPrincipal, svc: SchoolCoursesDep
) -> list[RowOut]:
    """成绩登记 in bulk (current year only for school admins); one result per teacher."""
    rows = await svc.register_results(principal, term, code, [(r.ce_number, r.passed) for r in body.results])
    return [RowOut.of(row) for row in rows]
