from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response, status
from pydantic import BaseModel, EmailStr, Field, field_validator

from enrollment.adapters.teacher_sheet import template_xlsx
from enrollment.entrypoints.api.deps import ImportDep, RosterDep
from enrollment.service_layer.roster import NewTeacher, TeacherFilter
from jijiao_contracts.enums import Stage
from jijiao_kit.access import Level, covers
from jijiao_kit.auth import CurrentPrincipal, Principal
from jijiao_kit.errors import BadRequest
from jijiao_kit.http import xlsx_download
from jijiao_kit.names import Name
from jijiao_kit.paging import Skip
from jijiao_kit.stepup import step_up_granted
from jijiao_kit.xlsx import XLSX_MEDIA_TYPE

router = APIRouter(tags=["teachers"])

MAX_IMPORT_BYTES = 5 * 1024 * 1024


class TeacherIn(BaseModel):
    name: Name = Field(min_length=1, max_length=50, description="姓名")
    id_number: str = Field(min_length=18, max_length=18, description="18-character national ID (身份证号)")
    mobile: str = Field(pattern=r"^1\d{10}$", description="手机号码")
    gender: Literal["male", "female"] | None = None
    email: EmailStr | None = None
    subject: str | None = Field(default=None, max_length=30, description="任教学科")
    stage: Stage | None = Field(default=None, description="学段")
    title: str | None = Field(default=None, max_length=30, description="职称")


class InfoReviewOut(BaseModel):
    state: str = "none"
    submission_id: str | None = None
    changes: dict[str, Any] = Field(default_factory=dict)
    submitted_at: datetime | None = None
    reason: str | None = None
    reopened: bool = False
    reviewed_at: datetime | None = None

    @field_validator("submitted_at", "reviewed_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class TeacherOut(BaseModel):
    ce_number: str
    name: str
    id_number: str
    id_number_masked: bool = Field(False, description="true: masked; the full number needs a step-up token")
    mobile: str
    gender: str | None = None
    email: str | None = None
    subject: str | None = None
    stage: str | None = None
    title: str | None = None
    school_id: str
    school_name: str
    district: str
    status: str = "active"
    special_user: bool = False
    locked: bool = False
    info_review: InfoReviewOut = Field(default_factory=InfoReviewOut)
    created_at: datetime | None = None

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    @classmethod
    def of(cls, doc: dict[str, Any], *, mask_id: bool = False) -> TeacherOut:
        fields = {k: v for k, v in doc.items() if k in cls.model_fields and k not in ("locked", "info_review")}
        if mask_id:
            fields["id_number"] = mask(doc["id_number"])
            fields["id_number_masked"] = True
        review = dict(doc.get("info_review") or {})
        if mask_id and (review.get("changes") or {}).get("id_number"):
            review["changes"] = {**review["changes"], "id_number": mask(review["changes"]["id_number"])}
        return cls(
            ce_number=doc["_id"],
            locked=bool((doc.get("credentials") or {}).get("locked")),
            info_review=InfoReviewOut(**{k: v for k, v in review.items() if k in InfoReviewOut.model_fields}),
            **fields,
        )


def id_number_visible(request: Request, principal: Principal, ce_number: str) -> bool:
    themself = covers(principal, ce_number=ce_number, levels=frozenset({Level.SELF}))
    return themself or step_up_granted(request, "view_sensitive", "export")


def mask(id_number: str) -> str:
    """Lists show ID numbers masked; the single record shows it in full to the teacher themself or with a
    step-up (``id_number_visible``), exports need one."""
    return id_number[:6] + "********" + id_number[-4:] if len(id_number) == 18 else "****"


class ArchiveIn(BaseModel):
    status: Literal["active", "left", "retired", "other"] = Field(description="在职 / 离职 / 退休 / 其他")


class BulkArchiveIn(ArchiveIn):
    ce_numbers: list[str] = Field(min_length=1, max_length=500)


class BulkRowOut(BaseModel):
    ce_number: str
    ok: bool
    code: str | None = None
    reason: str | None = None


class InfoChangeIn(BaseModel):
    """Changed personal information, submitted for the school's review (提交审核).

    Name and ID number only after the school admin re-opened the record (重新更新)."""

    model_config = {"extra": "forbid"}

    name: str | None = Field(default=None, min_length=1, max_length=50)
    id_number: str | None = Field(default=None, min_length=18, max_length=18)
    mobile: str | None = Field(default=None, pattern=r"^1\d{10}$")
    gender: Literal["male", "female"] | None = None
    email: EmailStr | None = None
    subject: str | None = Field(default=None, max_length=30)
    stage: Stage | None = None
    title: str | None = Field(default=None, max_length=30)


class ReviewIn(BaseModel):
    approve: bool
    submission_id: str | None = Field(default=None, description="the submission reviewed (guards a stale page)")
    reason: str | None = Field(default=None, max_length=200, description="退回原因 (required to return)")


class ReopenIn(BaseModel):
    reason: str | None = Field(default=None, max_length=200)


class ImportRowOut(BaseModel):
    row: int
    ce_number: str | None = None
    name: str | None = None
    code: str | None = None
    reason: str | None = None
    detail: str | None = None


class ImportReportOut(BaseModel):
    accepted: list[ImportRowOut]
    rejected: list[ImportRowOut]


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
async def list_school_teachers(
    school_id: str,
    principal: CurrentPrincipal,
    roster: RosterDep,
    status: str | None = Query(default=None, pattern="^(active|left|retired|other)$"),
    name: str | None = Query(default=None, max_length=50),
    review_state: str | None = Query(default=None, pattern="^(none|submitted|returned|approved)$"),
    special_user: bool | None = None,
    limit: int = Query(default=500, ge=1, le=1000),
    skip: Skip = 0,
) -> list[TeacherOut]:
    filters = TeacherFilter(
        status=status, name=name, review_state=review_state, special_user=special_user, limit=limit, skip=skip
    )
    return [TeacherOut.of(doc, mask_id=True) for doc in await roster.list_teachers(principal, school_id, filters)]


@router.get("/v1/teachers", response_model=list[TeacherOut])
async def search_teachers(
    principal: CurrentPrincipal,
    roster: RosterDep,
    school_id: str | None = None,
    district: str | None = None,
    status: str | None = Query(default=None, pattern="^(active|left|retired|other)$"),
    subject: str | None = None,
    stage: Stage | None = None,
    name: str | None = Query(default=None, max_length=50, description="name prefix"),
    ce_number: str | None = None,
    id_number: str | None = None,
    special_user: bool | None = None,
    review_state: str | None = Query(default=None, pattern="^(none|submitted|returned|approved)$"),
    limit: int = Query(default=200, ge=1, le=1000),
    skip: Skip = 0,
) -> list[TeacherOut]:
    """Teachers within the caller's scope (school admin: own school; district admin: own district)."""
    filters = TeacherFilter(
        school_id=school_id,
        district=district,
        status=status,
        subject=subject,
        stage=stage.value if stage else None,
        name=name,
        ce_number=ce_number,
        id_number=id_number,
        special_user=special_user,
        review_state=review_state,
        limit=limit,
        skip=skip,
    )
    return [TeacherOut.of(doc, mask_id=True) for doc in await roster.search_teachers(principal, filters)]


@router.get("/v1/teachers/{ce_number}", response_model=TeacherOut)
async def get_teacher(ce_number: str, request: Request, principal: CurrentPrincipal, roster: RosterDep) -> TeacherOut:
    """One teacher's record. The ID number is shown in full to the teacher themself and to anyone with
    a step-up token (``X-Step-Up-Token``, purpose ``view_sensitive`` or ``export``: viewing ID numbers
    needs the SMS code, DOMAIN §1); otherwise masked, with ``id_number_masked: true``."""
    teacher = await roster.teacher_for(principal, ce_number)
    return TeacherOut.of(teacher, mask_id=not id_number_visible(request, principal, ce_number))


@router.post("/v1/teachers/{ce_number}/archive", response_model=TeacherOut)
async def archive_teacher(
    ce_number: str, body: ArchiveIn, principal: CurrentPrincipal, roster: RosterDep
) -> TeacherOut:
    """归档 (left / retired / other) or back to active (在职)."""
    return TeacherOut.of(await roster.archive(principal, ce_number, body.status))


@router.post("/v1/schools/{school_id}/teachers/archive", response_model=list[BulkRowOut])
async def archive_teachers(
    school_id: str, body: BulkArchiveIn, principal: CurrentPrincipal, roster: RosterDep
) -> list[BulkRowOut]:
    """The checked teachers of a school to one archive type; one result per teacher."""
    rows = await roster.archive_many(principal, school_id, body.ce_numbers, body.status)
    return [BulkRowOut(**row) for row in rows]


@router.put("/v1/teachers/{ce_number}/info-change", response_model=TeacherOut)
async def submit_info_change(
    ce_number: str, body: InfoChangeIn, principal: CurrentPrincipal, roster: RosterDep
) -> TeacherOut:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if "email" in changes:
        changes["email"] = str(changes["email"])
    if "stage" in changes:
        changes["stage"] = Stage(changes["stage"]).value
    return TeacherOut.of(await roster.submit_changes(principal, ce_number, changes))


@router.post("/v1/teachers/{ce_number}/info-change/review", response_model=TeacherOut)
async def review_info_change(
    ce_number: str, body: ReviewIn, principal: CurrentPrincipal, roster: RosterDep
) -> TeacherOut:
    """审核: approve (the changes apply) or return with a reason."""
    teacher = await roster.review_changes(
        principal, ce_number, approve=body.approve, submission_id=body.submission_id, reason=body.reason
    )
    return TeacherOut.of(teacher)


@router.post("/v1/teachers/{ce_number}/reopen", response_model=TeacherOut)
async def reopen_record(
    ce_number: str, principal: CurrentPrincipal, roster: RosterDep, body: ReopenIn | None = Body(default=None)
) -> TeacherOut:
    """重新更新: let the teacher correct name and ID number, then submit for review again."""
    return TeacherOut.of(await roster.reopen(principal, ce_number, body.reason if body else None))


@router.get(
    "/v1/schools/{school_id}/teachers/import-template",
    response_class=Response,
    responses={
        200: {"content": {XLSX_MEDIA_TYPE: {}}, "description": "The import template (.xlsx, Chinese header row)"}
    },
)
async def import_template(school_id: str, principal: CurrentPrincipal, roster: RosterDep) -> Response:
    """教师导入模板: the header row the import expects (姓名, 身份证号码, 手机号码, ...)."""
    await roster.get_school(principal, school_id)
    return xlsx_download(template_xlsx(), "teacher-import-template.xlsx")


@router.post(
    "/v1/schools/{school_id}/teachers/import",
    response_model=ImportReportOut,
    openapi_extra={"requestBody": {"content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def import_teachers(
    school_id: str, request: Request, principal: CurrentPrincipal, importer: ImportDep
) -> ImportReportOut:
    """Excel import (.xlsx body; header row 姓名, 身份证号码, 手机号码, 性别, 电子邮箱, 任教学科, 任教学段, 职称)."""
    content = await request.body()
    if not content:
        raise BadRequest("Send the .xlsx file as the request body.", code="invalid_sheet", title="请上传Excel文件")
    if len(content) > MAX_IMPORT_BYTES:
        raise BadRequest("File too large (5 MB at most).", code="file_too_large", title="文件不能超过5MB")
    report = await importer.run(principal, school_id, content)
    return ImportReportOut(
        accepted=[ImportRowOut(**row) for row in report.accepted],
        rejected=[
            ImportRowOut(**{k: v for k, v in row.items() if k in ImportRowOut.model_fields}) for row in report.rejected
        ],
    )
