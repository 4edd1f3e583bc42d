"""Selections: self-selection, cancellation/deletion, collective selection (API and .xlsx import),
my course list, the cart. Routes only translate HTTP <-> SelectionService."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response, UploadFile, status
from pydantic import BaseModel, Field, model_validator

from enrollment.adapters.selection_excel import WorkbookInvalid, read_selection_rows
from enrollment.adapters.selection_idempotency import fingerprint
from enrollment.entrypoints.api.deps import ContainerDep
from enrollment.service_layer.selection import RowResult, import_rows, selection_view
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.errors import BadRequest, InvalidInput
from jijiao_kit.paging import MAX_PAGE
from jijiao_kit.stepup import ExportPrincipal

router = APIRouter(tags=["selection"])
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class SelectionIn(BaseModel):
    ce_number: str = Field(min_length=1, max_length=30, description="继续教育学号")
    course_code: str = Field(min_length=1, max_length=30, description="课程编号")


class SelectionOut(BaseModel):
    id: str
    term: str
    ce_number: str
    name: str | None
    school_id: str | None
    course_code: str
    course_name: str | None
    programme: str | None
    hour_type: str | None
    hours: float | None
    training_fee: Decimal
    material_fee: Decimal
    payee: str | None
    ability_category: str | None = None
    status: str
    selected_by: str | None
    via: str | None = None
    paid: bool = False
    result: str | None = None
    created_at: datetime
    cancelled_at: datetime | None = None


class CollectiveIn(BaseModel):
    """By course (one course -> many teachers) or by teacher (one teacher -> many courses)."""

    course_code: str | None = Field(default=None, description="按课程选课: the course")
    ce_numbers: list[str] | None = Field(default=None, max_length=2000, description="按课程选课: the teachers")
    ce_number: str | None = Field(default=None, description="按教师选课: the teacher")
    course_codes: list[str] | None = Field(default=None, max_length=200, description="按教师选课: the courses")

    @model_validator(mode="after")
    def one_shape(self) -> CollectiveIn:
        by_course = self.course_code is not None and self.ce_numbers
        by_teacher = self.ce_number is not None and self.course_codes
        if bool(by_course) == bool(by_teacher):
            raise ValueError("give either course_code + ce_numbers or ce_number + course_codes")
        return self

    def rows(self) -> list[tuple[str, str, str | None]]:
        if self.course_code is not None and self.ce_numbers:
            return [(ce, self.course_code, None) for ce in self.ce_numbers]
        assert self.ce_number is not None and self.course_codes
        return [(self.ce_number, code, None) for code in self.course_codes]


class RowOut(BaseModel):
    row: int
    ce_number: str
    course_code: str
    accepted: bool
    selection_id: str | None = None
    code: str | None = None
    title: str | None = None
    detail: str | None = None


class Report(BaseModel):
    accepted: int
    rejected: int
    rows: list[RowOut]

    @classmethod
    def of(cls, results: list[RowResult]) -> Report:
        accepted = sum(1 for result in results if result.accepted)
        return cls(accepted=accepted, rejected=len(results) - accepted, rows=[RowOut(**r.__dict__) for r in results])


class CourseList(BaseModel):
    term: str
    ce_number: str
    window_open: bool
    seconds_until_close: int | None
    items: list[SelectionOut]


class SelectionPage(BaseModel):
    items: list[SelectionOut]
    total: int
    page: int
    size: int


@router.post(
    "/v1/terms/{term}/selections",
    status_code=status.HTTP_201_CREATED,
    response_model=SelectionOut,
    operation_id="select_course",
    responses={
        403: {"description": "special_user / selection_forbidden"},
        409: {"description": "window_closed, course_full, already_selected, teacher_not_active, ..."},
    },
)
async def select_course(
    term: str,
    body: SelectionIn,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    container: ContainerDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=100)] = None,
) -> SelectionOut:
    """选读此课. With an ``Idempotency-Key`` header a retry replays the first response (same status
    and body, header ``Idempotent-Replayed: true``); a concurrent duplicate waits for the first."""

    async def action() -> dict[str, Any]:
        return await container.selection_service.select(principal, term, body.ce_number, body.course_code)

    if idempotency_key is None:
        return SelectionOut(**await action())
    result, replayed = await container.selection_idempotency.run(
        principal.subject, idempotency_key, fingerprint(request.url.path, body.model_dump()), action
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return SelectionOut(**result)


@router.delete(
    "/v1/terms/{term}/selections/{selection_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_selection",
    responses={409: {"description": "window_closed, selection_paid, ability_compulsory_locked"}},
)
async def delete_selection(
    term: str, selection_id: str, principal: CurrentPrincipal, container: ContainerDep
) -> Response:
    """取消选课 (teacher, in the window) / 删除选课 (school admin in the window, afterwards the course's institution)."""
    await container.selection_service.delete(principal, term, selection_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/v1/terms/{term}/selections/{selection_id}", response_model=SelectionOut, operation_id="get_selection")
async def get_selection(
    term: str, selection_id: str, principal: CurrentPrincipal, container: ContainerDep
) -> SelectionOut:
    return SelectionOut(**selection_view(await container.selection_service.get(principal, term, selection_id)))


@router.post("/v1/terms/{term}/selections/collective", response_model=Report, operation_id="collective_selection")
async def collective_selection(
    term: str, body: CollectiveIn, principal: CurrentPrincipal, container: ContainerDep
) -> Report:
    """集体选课 by course or by teacher: one request, a result per row (accepted rows are complete,
    rejected rows leave no trace)."""
    via = "collective_by_course" if body.course_code is not None else "collective_by_teacher"
    return Report.of(await container.selection_service.collective(principal, term, body.rows(), via=via))


@router.post("/v1/terms/{term}/selections/import", response_model=Report, operation_id="import_selections")
async def import_selections(
    term: str, file: UploadFile, principal: CurrentPrincipal, container: ContainerDep
) -> Report:
    """Excel (.xlsx) import of collective selections: header row 学号, 姓名, 课程编号."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise BadRequest("The workbook is larger than 5 MB.", code="file_too_large", title="文件过大")
    try:
        rows = await read_selection_rows(data)
    except WorkbookInvalid as exc:
        raise InvalidInput(
            exc.detail, code=exc.code, title="Excel 文件格式不正确（须含表头：学号、姓名、课程编号）"
        ) from exc
    return Report.of(await import_rows(container.selection_service, principal, term, rows))


@router.get("/v1/terms/{term}/teachers/{ce_number}/selections", response_model=CourseList, operation_id="course_list")
async def course_list(term: str, ce_number: str, principal: CurrentPrincipal, container: ContainerDep) -> CourseList:
    """我的课单 (with the countdown to the window's end)."""
    docs, window = await container.selection_service.course_list(principal, term, ce_number)
    return CourseList(term=term, ce_number=ce_number, items=[SelectionOut(**selection_view(d)) for d in docs], **window)


@router.get("/v1/terms/{term}/selections", response_model=SelectionPage, operation_id="school_selections")
async def school_selections(
    term: str,
    school_id: str,
    principal: ExportPrincipal,
    container: ContainerDep,
    course_code: str | None = None,
    page: int = 1,
    size: int = 100,
) -> SelectionPage:
    """学员选课情况 of one school (personal data: needs the step-up token)."""
    size = max(1, min(size, 500))
    page = max(1, min(page, MAX_PAGE))
    docs, total = await container.selection_service.school_selections(
        principal, term, school_id, course_code, page, size
    )
    return SelectionPage(items=[SelectionOut(**selection_view(d)) for d in docs], total=total, page=page, size=size)


class CartOut(BaseModel):
    items: list[dict[str, Any]]


@router.get("/v1/terms/{term}/teachers/{ce_number}/cart", response_model=CartOut, operation_id="get_cart")
async def get_cart(term: str, ce_number: str, principal: CurrentPrincipal, container: ContainerDep) -> CartOut:
    items = await container.selection_service.cart(principal, term, ce_number)
    return CartOut(items=[items[code] for code in sorted(items)])


@router.put("/v1/terms/{term}/teachers/{ce_number}/cart/{course_code}", response_model=CartOut, operation_id="cart_add")
async def cart_add(
    term: str, ce_number: str, course_code: str, principal: CurrentPrincipal, container: ContainerDep
) -> CartOut:
    items = await container.selection_service.cart_add(principal, term, ce_number, course_code)
    return CartOut(items=[items[code] for code in sorted(items)])


@router.delete(
    "/v1/terms/{term}/teachers/{ce_number}/cart/{course_code}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="cart_remove",
)
async def cart_remove(
    term: str, ce_number: str, course_code: str, principal: CurrentPrincipal, container: ContainerDep
) -> Response:
    await container.selection_service.cart_remove(principal, term, ce_number, course_code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/v1/terms/{term}/teachers/{ce_number}/cart/checkout", response_model=Report, operation_id="cart_checkout")
async def cart_checkout(term: str, ce_number: str, principal: CurrentPrincipal, container: ContainerDep) -> Report:
    """确定选课: every course in the cart, a result per course."""
    return Report.of(await container.selection_service.cart_checkout(principal, term, ce_number))


class CourseCount(BaseModel):
    course_code: str
    course_name: str | None
    selected: int


@router.get("/v1/terms/{term}/selection-counts", response_model=list[CourseCount], operation_id="selection_counts")
async def selection_counts(
    term: str,
    principal: CurrentPrincipal,
    container: ContainerDep,
    district: str | None = None,
    school_id: str | None = None,
) -> list[CourseCount]:
    """选课统计: active selections per course for the city, a district or a school."""
    rows = await container.selection_service.course_counts(principal, term, district, school_id)
    return [CourseCount(**row) for row in rows]
