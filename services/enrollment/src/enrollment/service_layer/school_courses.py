"""School-based course use cases (DOMAIN §5): declaration, review, editing until approved, bulk
enrollment of the school's teachers (the selection path, same invariants) and bulk results."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from enrollment.adapters.repositories import TeacherRepository
from enrollment.adapters.school_courses_repository import SchoolCourseRepository
from enrollment.domain import school_courses as rules
from enrollment.domain.calendar import CHINA
from enrollment.domain.selection import Actor as SelectionActor
from enrollment.domain.selection import teacher_refusal
from enrollment.service_layer.results import ResultsService
from enrollment.service_layer.selection import SelectionService
from jijiao_contracts import Actor
from jijiao_contracts.enums import Role
from jijiao_contracts.events.enrollment import PRODUCER, SchoolCourseApproved, SchoolCourseRejected
from jijiao_kit.access import ADMIN_LEVELS, Level, covers
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound
from jijiao_kit.outbox import outbox_entry

Doc = dict[str, Any]
EDITABLE_FIELDS = (
    "name",
    "hours",
    "subject",
    "stage",
    "course_type",
    "lecturer",
    "description",
    "target",
    "institution_id",
)

REFUSALS: dict[str, tuple[type[AppError], str]] = {
    "declaration_closed": (Conflict, "校本课程申报截止日期为本年度12月31日，已过申报期"),
    "review_closed": (Conflict, "校本课程审核截止日期为本年度12月31日，已过审核期"),
    "course_not_pending": (Conflict, "该课程不在待审核状态"),
    "course_approved_locked": (Conflict, "已审批的校本课程不能修改"),
    "course_not_approved": (Conflict, "校本课程审批通过后才能报读"),
    "teacher_not_in_school": (Conflict, "该教师不属于本校"),
    "term_required": (InvalidInput, "当前年度没有培训期，请指定期数"),
}


def refusal(code: str, detail: str | None = None) -> AppError:
    error_class, title = REFUSALS[code]
    return error_class(detail or f"Refused: {code}.", code=code, title=title)


def actor_of(principal: Principal) -> Actor:
    return Actor(subject=principal.subject, role=sorted(principal.roles)[0] if principal.roles else None)


@dataclass(frozen=True)
class Declaration:
    name: str
    hours: float
    subject: str | None = None
    stage: str | None = None
    course_type: str = "face_to_face"
    lecturer: str | None = None
    description: str | None = None
    target: str | None = None
    institution_id: str | None = None  # the reviewing training institution, if not the district


@dataclass(frozen=True)
class Row:
    index: int
    ce_number: str
    ok: bool
    code: str | None = None
    selection_id: str | None = None


class SchoolCourseService:
    def __init__(
        self,
        repo: SchoolCourseRepository,
        teachers: TeacherRepository,
        selections: SelectionService,
        results: ResultsService,
        clock: Clock,
        next_sequence: Callable[[str], Awaitable[int]],
    ) -> None:
        self.repo = repo
        self.teachers = teachers
        self.selections = selections
        self.results = results
        self.clock = clock
        self._next_sequence = next_sequence

    def _today(self) -> date:
        return self.clock.now().astimezone(CHINA).date()

    @staticmethod
    def _ensure_school_admin(principal: Principal, school_id: str) -> None:
        if not covers(principal, school_id=school_id, levels=frozenset({Level.SCHOOL})):
            raise Forbidden(
                "Only this school's admin manages its school-based courses.",
                code="school_forbidden",
                title="无权管理该学校的校本课程",
            )

    @staticmethod
    def can_review(principal: Principal, course: Doc) -> bool:
        if covers(principal, district=course.get("district"), levels=frozenset({Level.DISTRICT, Level.CITY})):
            return True
        owner = course.get("institution_id")
        return bool(principal.has_role(Role.INSTITUTION) and owner and principal.scopes.get("institution_id") == owner)

    async def _course(self, term: str, code: str) -> Doc:
        course = await self.repo.get(term, code)
        if course is None:
            raise NotFound(
                f"School-based course {term}:{code} not found.", code="course_not_found", title="校本课程不存在"
            )
        return course

    async def _term_year(self, term: str) -> int:
        doc = await self.repo.term(term)
        if doc is None:
            raise NotFound(f"Term {term} not found.", code="term_not_found", title="培训期不存在")
        return int(doc.get("year") or 2000 + int(term[:2]))

    # -- declaring and editing ---------------------------------------------------------------------

    async def declare(self, principal: Principal, school_id: str, new: Declaration, term: str | None) -> Doc:
        self._ensure_school_admin(principal, school_id)
        school = await self.repo.school(school_id)
        if school is None:
            raise NotFound(f"School {school_id} not found.", code="school_not_found", title="学校不存在")
        today = self._today()
        if term is None:
            term = rules.current_term(await self.repo.terms_of_year(today.year), today.year)
            if term is None:
                raise refusal("term_required")
        year = await self._term_year(term)
        if code := rules.declaration_refusal(today, year):
            raise refusal(code)
        now = self.clock.now()
        code = f"{term}9{await self._next_sequence(f'school_course:{term}'):08d}"
        course = {
            "_id": f"{term}:{code}",
            "term": term,
            "code": code,
            "name": new.name,
            "programme": "school",
            "hour_type": "elective",
            "hours": new.hours,
            "training_fee_fen": 0,
            "material_fee_fen": 0,
            "course_type": new.course_type,
            "payee": school.get("name"),
            "declaring_unit": school.get("name"),
            "institution_id": new.institution_id,
            "subject": new.subject,
            "stage": new.stage,
            "lecturer": new.lecturer,
            "description": new.description,
            "target": new.target,
            "capacity": None,
            "taken": 0,
            "school_id": school_id,
            "district": school.get("district"),
            "year": year,
            "status": "declared",  # not open for selection until approved (the selection path checks it)
            "declaration_status": rules.DECLARED,
            "declared_at": now,
            "declared_by": principal.subject,
            "review_due_on": rules.review_due_on(today).isoformat(),
            "version": 1,
        }
        await self.repo.add(course)
        return course

    async def edit(self, principal: Principal, term: str, code: str, changes: dict[str, Any]) -> Doc:
        course = await self._course(term, code)
        self._ensure_school_admin(principal, course["school_id"])
        if reason := rules.edit_refusal(course):
            raise refusal(reason)
        fields = {k: v for k, v in changes.items() if k in EDITABLE_FIELDS}
        update = {
            "$set": {**fields, "declaration_status": rules.DECLARED, "status": "declared"},
            "$inc": {"version": 1},
        }
        # Conditional on still being editable: an approval that lands first wins, the edit is refused.
        if not await self.repo.update_if(
            course["_id"], {"declaration_status": {"$in": sorted(rules.EDITABLE)}}, update
        ):
            raise refusal("course_approved_locked")
        return await self._course(term, code)

    async def review(self, principal: Principal, term: str, code: str, *, approved: bool, comment: str | None) -> Doc:
        course = await self._course(term, code)
        if not self.can_review(principal, course):
            raise Forbidden(
                "Not the reviewing unit of this course.", code="review_forbidden", title="无权审核该校本课程"
            )
        if reason := rules.review_refusal(
            course, self._today(), int(course.get("year") or await self._term_year(term))
        ):
            raise refusal(reason)
        review = {"approved": approved, "by": principal.subject, "at": self.clock.now(), "comment": comment}
        if approved:
            event = SchoolCourseApproved(
                term=term,
                school_id=course["school_id"],
                course_code=code,
                name=course["name"],
                hours=float(course["hours"]),
            )
            update = {"$set": {"declaration_status": rules.APPROVED, "status": "open", "review": review}}
            events = [outbox_entry(event, producer=PRODUCER, actor=actor_of(principal))]
        else:
            rejected = SchoolCourseRejected(
                term=term, school_id=course["school_id"], course_code=code, name=course["name"], comment=comment
            )
            update = {"$set": {"declaration_status": rules.REJECTED, "review": review}}
            events = [outbox_entry(rejected, producer=PRODUCER, actor=actor_of(principal))]
        # Conditional on the version read: an edit that lands first makes this review stale (refused),
        # so an approval always approves exactly what the event says.
        condition = {"declaration_status": rules.DECLARED, "version": course.get("version", 1)}
        if not await self.repo.update_if(course["_id"], condition, update, events):
            raise refusal("course_not_pending", "The course changed or was reviewed meanwhile; review again.")
        return await self._course(term, code)

    async def list_for_school(self, principal: Principal, school_id: str, term: str | None) -> list[Doc]:
        school = await self.repo.school(school_id)
        if school is None:
            raise NotFound(f"School {school_id} not found.", code="school_not_found", title="学校不存在")
        if not covers(principal, school_id=school_id, district=school.get("district"), levels=ADMIN_LEVELS):
            raise Forbidden(
                "Not allowed to see this school's courses.", code="school_forbidden", title="无权查看该学校"
            )
        return await self.repo.of_school(school_id, term)

    # -- enrolling and results ---------------------------------------------------------------------

    async def enroll(self, principal: Principal, term: str, code: str, ce_numbers: list[str]) -> list[Row]:
        """招生录取 in bulk: one selection per teacher through the shared selection path (unique active
        key, capacity counter, SelectionMade in the same write); one result per row."""
        course = await self._course(term, code)
        self._ensure_school_admin(principal, course["school_id"])
        rows = []
        for index, ce_number in enumerate(ce_numbers):
            teacher = await self.teachers.get(ce_number)
            if teacher is None:
                rows.append(Row(index, ce_number, False, "teacher_not_found"))
                continue
            reason = rules.enrollment_refusal(course, teacher) or teacher_refusal(teacher)
            if reason:
                rows.append(Row(index, ce_number, False, reason))
                continue
            try:
                doc = await self.selections.place(
                    principal, term, teacher, course, actor=SelectionActor.SCHOOL_ADMIN, via="school_based"
                )
            except AppError as exc:
                rows.append(Row(index, ce_number, False, exc.code))
                continue
            rows.append(Row(index, ce_number, True, None, doc["_id"]))
        return rows

    async def register_results(
        self, principal: Principal, term: str, code: str, results: list[tuple[str, bool]]
    ) -> list[Row]:
        """成绩登记 for a school-based course, one row each (same rules as the single registration)."""
        await self._course(term, code)
        rows = []
        for index, (ce_number, passed) in enumerate(results):
            try:
                registration = await self.results.register(principal, term, ce_number, code, passed)
            except AppError as exc:
                rows.append(Row(index, ce_number, False, exc.code))
                continue
            rows.append(Row(index, ce_number, True, None, registration.selection["_id"]))
        return rows
