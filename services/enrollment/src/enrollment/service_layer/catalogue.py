"""Catalogue use cases (DOMAIN §2): courses of a term, search with the §2 filters, recommendations."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from enrollment.adapters.catalogue_repository import CourseQuery, CourseRepository, RatingRepository
from enrollment.adapters.repositories import AlreadyExists, TeacherRepository
from enrollment.adapters.selection_repository import SelectionRepository
from enrollment.domain import catalogue
from enrollment.domain.catalogue import CourseRuleViolation
from enrollment.domain.selection import Actor, active_key, course_refusal
from enrollment.service_layer.access import can_read_teacher
from enrollment.service_layer.terms import TermService
from jijiao_contracts.enums import Role
from jijiao_kit.access import Level, covers
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.errors import Conflict, Forbidden, InvalidInput, NotFound

Doc = dict[str, Any]


@dataclass(frozen=True)
class NewCourse:
    code: str
    name: str
    programme: str
    hour_type: str
    hours: float
    training_fee: Decimal
    material_fee: Decimal
    course_type: str
    payee: str
    subject: str | None
    stage: str | None
    capacity: int | None = None
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
    has_assignment: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    items: list[Doc]
    total: int
    page: int
    size: int


CITY_LEVEL = frozenset({Level.CITY})
DISTRICT_LEVEL = frozenset({Level.DISTRICT})


def ensure_can_create_course(principal: Principal, new: NewCourse) -> None:
    """The city creates every programme's courses; a district admin creates district courses of its
    own district."""
    if covers(principal, levels=CITY_LEVEL):
        return
    if new.programme == "district" and covers(principal, district=new.district, levels=DISTRICT_LEVEL):
        return
    raise Forbidden(
        "Only the city admin, or a district admin for its own district courses, adds courses.",
        code="course_forbidden",
        title="无权发布该课程",
    )


class CatalogueService:
    def __init__(
        self,
        terms: TermService,
        courses: CourseRepository,
        selections: SelectionRepository,
        teachers: TeacherRepository,
        clock: Clock,
    ) -> None:
        self.terms = terms
        self.courses = courses
        self.selections = selections
        self.teachers = teachers
        self.clock = clock
        self.ratings = RatingRepository(courses.collection.database)

    async def add_course(self, principal: Principal, term_code: str, new: NewCourse) -> Doc:
        if new.programme == "district" and new.district is None and principal.has_role(Role.DISTRICT_ADMIN):
            new = NewCourse(**{**new.__dict__, "district": principal.district})
        ensure_can_create_course(principal, new)
        await self.terms.get_term(term_code)
        try:
            training_fee_fen = catalogue.yuan_to_fen(new.training_fee)
            material_fee_fen = catalogue.yuan_to_fen(new.material_fee)
            course = {
                "_id": catalogue.course_id(term_code, new.code),
                "term": term_code,
                **{k: v for k, v in new.__dict__.items() if k not in ("training_fee", "material_fee", "extra")},
                "training_fee_fen": training_fee_fen,
                "material_fee_fen": material_fee_fen,
                "taken": 0,
                "rating_sum": 0,
                "rating_count": 0,
                "rating_avg": None,
                "created_at": self.clock.now(),
                "created_by": principal.subject,
            }
            catalogue.validate_course(course)
        except CourseRuleViolation as exc:
            raise InvalidInput(exc.detail, code=exc.code, title="课程信息不符合要求") from exc
        try:
            await self.courses.add(course)
        except AlreadyExists as exc:
            raise Conflict(
                f"Course {new.code} already exists in term {term_code}.",
                code="course_exists",
                title="该课程编号本期已存在",
            ) from exc
        return course

    async def get_course(self, term_code: str, code: str) -> Doc:
        course = await self.courses.by_code(term_code, code)
        if course is None:
            raise NotFound(f"Course {code} not found in term {term_code}.", code="course_not_found", title="课程不存在")
        return course

    async def _teacher_for(self, principal: Principal, ce_number: str | None) -> Doc:
        ce_number = ce_number or principal.ce_number
        if not ce_number:
            raise InvalidInput(
                "Name the teacher (ce_number) for this filter.", code="teacher_required", title="请指定教师"
            )
        teacher = await self.teachers.get(ce_number)
        if teacher is None or not can_read_teacher(principal, teacher):
            raise NotFound(f"Teacher {ce_number} not found.", code="teacher_not_found", title="教师不存在")
        return teacher

    async def search(
        self,
        principal: Principal,
        term_code: str,
        query: CourseQuery,
        *,
        sort: str = "code",
        same_subject: bool = False,
        ce_number: str | None = None,
        page: int = 1,
        size: int = 20,
    ) -> Page:
        await self.terms.get_term(term_code)
        skip = (page - 1) * size
        if same_subject:
            teacher = await self._teacher_for(principal, ce_number)
            if not teacher.get("subject"):
                return Page([], 0, page, size)
            ranked = await self.selections.popular_with_subject(term_code, teacher["subject"])
            courses = await self.courses.all_of(term_code, CourseQuery(**{**query.__dict__, "codes": ranked}))
            order: dict[str, int] = {code: index for index, code in enumerate(ranked)}
            courses.sort(key=lambda course: order.get(course["code"], len(order)))
            return Page(courses[skip : skip + size], len(courses), page, size)
        items, total = await self.courses.search(term_code, query, sort=sort, skip=skip, limit=size)
        return Page(items, total, page, size)

    async def recommendations(self, principal: Principal, term_code: str, ce_number: str | None) -> list[Doc]:
        """推荐课程: 5-8 courses from the teacher's hours status (passed results known here),
        subject and stage."""
        term = await self.terms.get_term(term_code)
        teacher = await self._teacher_for(principal, ce_number)
        passed = await self.selections.passed_hours_by_type(teacher["_id"], str(term["_id"])[:2])
        mine = await self.selections.find_many({"term": term_code, "ce_number": teacher["_id"], "status": "active"})
        candidates = await self.courses.all_of(term_code, CourseQuery())
        return catalogue.recommend(
            candidates,
            subject=teacher.get("subject"),
            stage=teacher.get("stage"),
            passed_hours=passed,
            already={selection["course_code"] for selection in mine},
            selectable=lambda course: course_refusal(course, teacher, actor=Actor.TEACHER) is None,
        )

    async def rate(self, principal: Principal, term_code: str, code: str, stars: int) -> Doc:
        """好评: a teacher who selected the course rates it once (1-5 stars)."""
        ce_number = principal.ce_number
        if not principal.has_role(Role.TEACHER) or not ce_number:
            raise Forbidden("Only teachers rate courses.", code="rating_forbidden", title="只有教师可以评价课程")
        course = await self.get_course(term_code, code)
        if await self.selections.active_by_key(active_key(term_code, ce_number, code)) is None:
            raise Conflict(
                "Only a teacher who selected the course may rate it.",
                code="rating_not_selected",
                title="选读该课程后才能评价",
            )
        if not await self.ratings.add_once(term_code, code, ce_number, stars, self.clock.now()):
            raise Conflict("This course is already rated by you.", code="already_rated", title="您已评价过该课程")
        await self.courses.add_rating(course["_id"], stars)
        return await self.get_course(term_code, code)

    async def course_list(self, term_code: str, programme: str | None) -> list[Doc]:
        """The term's course list (with how many selected each), for the download."""
        await self.terms.get_term(term_code)
        return await self.courses.all_of(term_code, CourseQuery(programme=programme), limit=20_000)
