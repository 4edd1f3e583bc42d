"""Catalogue: ``POST/GET /v1/terms/{term}/courses`` (search with the §2 filters) and recommendations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from enrollment.adapters.catalogue_excel import course_list_workbook
from enrollment.adapters.catalogue_repository import CourseQuery
from enrollment.domain.catalogue import MAX_CAPACITY, fen_to_yuan
from enrollment.entrypoints.api.deps import ContainerDep
from enrollment.service_layer.catalogue import NewCourse
from jijiao_contracts.enums import HourCategory, Stage
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.http import xlsx_download
from jijiao_kit.names import Name
from jijiao_kit.paging import Page
from jijiao_kit.xlsx import XLSX_MEDIA_TYPE

router = APIRouter(tags=["catalogue"])

Programme = Literal["city", "district", "school", "special", "ability"]
CourseType = Literal["remote", "face_to_face", "micro"]
AbilityCategory = Literal["general_compulsory", "subject_compulsory", "school_research", "optional"]
Money = Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)]


class CourseIn(BaseModel):
    code: str = Field(pattern=r"^[0-9A-Za-z_-]{1,30}$", examples=["1602113140000"], description="课程编号")
    name: Name = Field(min_length=1, max_length=120, description="课程名称")
    programme: Programme = Field(
        description="项目级别: city 全员 / district 区级 / school 校本 / special 专项 / ability 提升工程"
    )
    hour_type: HourCategory = Field(description="学时类型")
    hours: float = Field(gt=0, le=500, description="学时")
    training_fee: Money = Field(description="培训费 (元)")
    material_fee: Money = Field(description="资料费 (元)")
    course_type: CourseType = Field(description="课程类型: 远程 / 面授 / 微课")
    payee: str = Field(min_length=1, max_length=80, description="收费单位")
    subject: str | None = Field(max_length=30, description="学科 (null = 通用)")
    stage: Stage | None = Field(description="学段 (null = 不限)")
    capacity: int | None = Field(ge=1, le=MAX_CAPACITY, description="名额 (null = unlimited)")
    institution_id: str | None = Field(default=None, max_length=60, description="培训机构 (registers results)")
    attribute: str | None = Field(default=None, max_length=30, description="课程属性")
    status: Literal["open", "closed"] = "open"
    lecturer: str | None = Field(default=None, max_length=60, description="主讲")
    declaring_unit: str | None = Field(default=None, max_length=80, description="申报单位")
    target_audience: str | None = Field(default=None, max_length=120, description="培训对象")
    terminal: Literal["pc", "mobile", "all"] | None = Field(default=None, description="学习终端")
    district: str | None = Field(default=None, max_length=30, description="区 (district courses)")
    school_id: str | None = Field(default=None, max_length=40, description="学校 (school-based courses)")
    ability_category: AbilityCategory | None = Field(default=None, description="提升工程课程类别")
    series: str | None = Field(default=None, max_length=60, description="微课系列 (optional ability courses)")
    has_assignment: bool = Field(default=False, description="有作业 (ability course pass rule)")


class CourseOut(BaseModel):
    term: str
    code: str
    name: str
    programme: str
    hour_type: str
    hours: float
    training_fee: Decimal
    material_fee: Decimal
    course_type: str
    payee: str | None
    subject: str | None
    stage: str | None
    capacity: int | None
    taken: int
    remaining: int | None
    institution_id: str | None = None
    attribute: str | None = None
    status: str = "open"
    lecturer: str | None = None
    declaring_unit: str | None = None
    target_audience: str | None = None
    terminal: str | None = None
    district: str | None = None
    school_id: str | None = None
    ability_category: str | None = None
    series: str | None = None
    rating_avg: float | None = None
    created_at: datetime | None = None

    @classmethod
    def of(cls, doc: dict[str, Any]) -> CourseOut:
        fields = {k: v for k, v in doc.items() if k in cls.model_fields}
        capacity = doc.get("capacity")
        taken = int(doc.get("taken", 0))
        fields.update(
            training_fee=fen_to_yuan(doc.get("training_fee_fen")),
            material_fee=fen_to_yuan(doc.get("material_fee_fen")),
            taken=taken,
            remaining=None if capacity is None else max(capacity - taken, 0),
        )
        return cls(**fields)


class CoursePage(BaseModel):
    items: list[CourseOut]
    total: int
    page: int
    size: int


@router.post(
    "/v1/terms/{term}/courses", status_code=status.HTTP_201_CREATED, response_model=CourseOut, operation_id="add_course"
)
async def add_course(term: str, body: CourseIn, principal: CurrentPrincipal, container: ContainerDep) -> CourseOut:
    data = body.model_dump()
    data["hour_type"] = body.hour_type.value
    data["stage"] = body.stage.value if body.stage else None
    course = await container.catalogue_service.add_course(principal, term, NewCourse(**data))
    return CourseOut.of(course)


@router.get("/v1/terms/{term}/courses", response_model=CoursePage, operation_id="search_courses")
async def search_courses(
    term: str,
    principal: CurrentPrincipal,
    container: ContainerDep,
    programme: Programme | None = None,
    hour_type: HourCategory | None = Query(default=None, description="学时类型"),
    hours_min: float | None = Query(default=None, ge=0, description="学时区间 from"),
    hours_max: float | None = Query(default=None, ge=0, description="学时区间 to"),
    subject: str | None = Query(default=None, description="学科"),
    stage: Stage | None = Query(default=None, description="学段"),
    terminal: Literal["pc", "mobile"] | None = Query(default=None, description="学习终端"),
    course_type: CourseType | None = None,
    district: str | None = None,
    q: str | None = Query(default=None, max_length=60, description="name contains"),
    same_subject: bool = Query(default=False, description="同学科老师报读课程 (most chosen first)"),
    ce_number: str | None = Query(default=None, description="the teacher for same_subject (default: caller)"),
    sort: Literal["code", "newest", "best_rated", "popular"] = Query(default="code", description="最新上线/好评/热门"),
    page: Page = 1,
    size: int = Query(default=20, ge=1, le=200),
) -> CoursePage:
    query = CourseQuery(
        programme=programme,
        hour_type=hour_type.value if hour_type else None,
        hours_min=hours_min,
        hours_max=hours_max,
        subject=subject,
        stage=stage.value if stage else None,
        terminal=terminal,
        course_type=course_type,
        district=district,
        text=q,
    )
    result = await container.catalogue_service.search(
        principal, term, query, sort=sort, same_subject=same_subject, ce_number=ce_number, page=page, size=size
    )
    return CoursePage(items=[CourseOut.of(doc) for doc in result.items], total=result.total, page=page, size=size)


@router.get(
    "/v1/terms/{term}/courses.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}},
    operation_id="download_course_list",
)
async def download_course_list(
    term: str, principal: CurrentPrincipal, container: ContainerDep, programme: Programme | None = None
) -> Response:
    """下载本期课程列表 (.xlsx, Chinese headers) with each course's selection count."""
    courses = await container.catalogue_service.course_list(term, programme)
    return xlsx_download(course_list_workbook(courses), f"courses-{term}.xlsx")


@router.get("/v1/terms/{term}/courses/{code}", response_model=CourseOut, operation_id="get_course")
async def get_course(term: str, code: str, principal: CurrentPrincipal, container: ContainerDep) -> CourseOut:
    return CourseOut.of(await container.catalogue_service.get_course(term, code))


@router.get("/v1/terms/{term}/recommendations", response_model=list[CourseOut], operation_id="recommend_courses")
async def recommendations(
    term: str, principal: CurrentPrincipal, container: ContainerDep, ce_number: str | None = None
) -> list[CourseOut]:
    """推荐课程: 5-8 courses from the teacher's hours status, subject and stage."""
    docs = await container.catalogue_service.recommendations(principal, term, ce_number)
    return [CourseOut.of(doc) for doc in docs]


class RatingIn(BaseModel):
    stars: int = Field(ge=1, le=5, description="1-5 stars")


@router.post("/v1/terms/{term}/courses/{code}/ratings", response_model=CourseOut, operation_id="rate_course")
async def rate_course(
    term: str, code: str, body: RatingIn, principal: CurrentPrincipal, container: ContainerDep
) -> CourseOut:
    """好评: a teacher who selected the course rates it once; ``sort=best_rated`` orders by it."""
    return CourseOut.of(await container.catalogue_service.rate(principal, term, code, body.stars))
