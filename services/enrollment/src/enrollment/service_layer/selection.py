"""Selection use cases (DOMAIN §2): self-selection, collective selection, cancellation/deletion,
cart and course list. Invariants live in the store: the capacity counter is a conditional $inc
and the one-active-selection rule is the unique ``active_key`` index; no check-then-act decides.

Order of writes for one selection: take a place (conditional $inc), then insert the selection
with its SelectionMade event in the same document write. If the insert fails (duplicate or
error) the place is given back. A crash between the two can only leave ``taken`` one too high
(a place lost, never a course over capacity)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from enrollment.adapters.catalogue_repository import CourseRepository
from enrollment.adapters.repositories import TeacherRepository
from enrollment.adapters.selection_repository import AlreadySelected, CartRepository, SelectionRepository
from enrollment.domain import ability as ability_rules
from enrollment.domain import catalogue
from enrollment.domain.selection import (
    Actor,
    active_key,
    course_refusal,
    deletion_refusal,
    selection_refusal,
    teacher_refusal,
)
from enrollment.domain.terms import aware, seconds_until_close, window_open
from enrollment.service_layer.roster import actor_of
from enrollment.service_layer.terms import TermService
from jijiao_contracts.enums import Role
from jijiao_contracts.events.enrollment import PRODUCER, SelectionCancelled, SelectionMade
from jijiao_kit.access import ADMIN_LEVELS, Level, covering_level, covers, scope_filter
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.errors import AppError, Forbidden, NotFound
from jijiao_kit.outbox import outbox_entry

Doc = dict[str, Any]

#: Refusal code -> (HTTP status, Chinese title, English detail). One table for the API, the
#: per-row results of collective selection and the Excel import.
PROBLEMS: dict[str, tuple[int, str, str]] = {
    "window_closed": (409, "不在选课时间内", "The selection window of this term is closed."),
    "special_user": (
        403,
        "特殊用户不能选课，请先到市远程培训中心办理取消特殊用户",
        "The teacher is a special user and may not select courses.",
    ),
    "teacher_not_active": (409, "该教师不是在职状态，不能选课", "Only active teachers may be selected for courses."),
    "course_full": (409, "该课程名额已满", "The course has no places left."),
    "already_selected": (409, "已选读该课程", "The teacher already has an active selection of this course this term."),
    "ability_plan_required": (
        409,
        "能力提升工程课程须完成诊断测评后在提升工程选课中选读",
        "Ability-project courses are chosen through the ability plan.",
    ),
    "ability_collective_forbidden": (
        409,
        "能力提升工程课程不支持学校管理员集体选课",
        "Ability-project courses cannot be selected collectively.",
    ),
    "special_application_required": (
        409,
        "专项培训须网上报名并经审核后参训",
        "Special-project courses are joined by application and review.",
    ),
    "course_not_for_school": (
        409,
        "该校本课程不属于该教师所在学校",
        "This school-based course belongs to another school.",
    ),
    "course_not_for_district": (409, "该区级课程仅供本区教师选读", "This district course is for another district."),
    "course_closed": (409, "该课程已停止选课", "The course is not open for selection."),
    "ability_compulsory_locked": (
        409,
        "能力提升工程必修课程不能删除",
        "Ability-project compulsory courses are locked.",
    ),
    "ability_plan_change_required": (
        409,
        "能力提升工程任意选修课程请在提升工程选课中调整",
        "Teachers change ability optional courses through the ability plan (total stays >= 50 h).",
    ),
    "selection_paid": (409, "该选课已缴费，不能删除", "A paid selection cannot be deleted."),
    "selection_passed": (
        409,
        "该课程已登记合格成绩，不能删除；如成绩有误，请先更正成绩",
        "A selection with a passed result cannot be deleted; correct the result first.",
    ),
    "selection_busy": (409, "该选课正在变更，请稍后重试", "The selection changed meanwhile; retry."),
    "not_course_institution": (
        403,
        "选课时间结束后只有该课程的培训机构可以删除选课",
        "Only the course's training institution may delete this selection.",
    ),
    "selection_forbidden": (403, "无权为该教师选课或删除选课", "Not allowed to act on this teacher's selections."),
    "forbidden": (403, "无权进行此操作", "Not allowed."),
    "teacher_not_found": (404, "教师不存在", "No teacher with this CE number."),
    "course_not_found": (404, "课程不存在", "No such course in this term."),
    "name_mismatch": (422, "姓名与学号不符", "The name does not match the teacher's record."),
}


#: The event's ``selected_by`` (the contract knows teacher, school_admin, institution, system; the
#: city acting for a school counts as school_admin).
SELECTED_BY: dict[Actor, Literal["teacher", "school_admin", "institution", "system"]] = {
    Actor.TEACHER: "teacher",
    Actor.SCHOOL_ADMIN: "school_admin",
    Actor.CITY_ADMIN: "school_admin",
    Actor.INSTITUTION: "institution",
    Actor.SYSTEM: "system",
}

#: Who selects and deletes for a teacher (a district admin does not), and as which actor.
SELECTING_LEVELS = frozenset({Level.SELF, Level.SCHOOL, Level.CITY})
ACTOR_AT = {Level.SELF: Actor.TEACHER, Level.SCHOOL: Actor.SCHOOL_ADMIN, Level.CITY: Actor.CITY_ADMIN}
#: The school's own administrators and the city.
SCHOOL_OR_CITY = frozenset({Level.SCHOOL, Level.CITY})
SCHOOL_LEVEL = frozenset({Level.SCHOOL})


def problem(code: str, **extra: Any) -> AppError:
    status, title, detail = PROBLEMS.get(code, (409, "操作与当前状态冲突", code))
    return AppError(detail, code=code, title=title, status=status, extra=extra or None)


@dataclass(frozen=True)
class RowResult:
    row: int
    ce_number: str
    course_code: str
    accepted: bool
    selection_id: str | None = None
    code: str | None = None
    title: str | None = None
    detail: str | None = None


def selection_view(doc: Doc) -> Doc:
    """The API shape of a selection (JSON-safe: stored in Redis for Idempotency-Key replays)."""
    return {
        "id": doc["_id"],
        "term": doc["term"],
        "ce_number": doc["ce_number"],
        "name": doc.get("name"),
        "school_id": doc.get("school_id"),
        "course_code": doc["course_code"],
        "course_name": doc.get("course_name"),
        "programme": doc.get("programme"),
        "hour_type": doc.get("hour_type"),
        "hours": doc.get("hours"),
        "training_fee": str(catalogue.fen_to_yuan(doc.get("training_fee_fen"))),
        "material_fee": str(catalogue.fen_to_yuan(doc.get("material_fee_fen"))),
        "payee": doc.get("payee"),
        "ability_category": doc.get("ability_category"),
        "status": doc["status"],
        "selected_by": doc.get("selected_by"),
        "via": doc.get("via"),
        "paid": bool(doc.get("paid")),
        "result": doc.get("result"),
        "created_at": aware(doc["created_at"]).isoformat(),
        "cancelled_at": aware(doc["cancelled_at"]).isoformat() if doc.get("cancelled_at") else None,
    }


class SelectionService:
    def __init__(
        self,
        terms: TermService,
        courses: CourseRepository,
        selections: SelectionRepository,
        teachers: TeacherRepository,
        carts: CartRepository,
        clock: Clock,
        *,
        collective_concurrency: int = 8,
    ) -> None:
        self.terms = terms
        self.courses = courses
        self.selections = selections
        self.teachers = teachers
        self.carts = carts
        self.clock = clock
        self.collective_concurrency = collective_concurrency

    # -- lookups -------------------------------------------------------------------------------
    async def _teacher(self, ce_number: str) -> Doc:
        teacher = await self.teachers.get(ce_number)
        if teacher is None:
            raise problem("teacher_not_found")
        return teacher

    async def _course(self, term_code: str, code: str) -> Doc:
        course = await self.courses.static_by_code(term_code, code)
        if course is None:
            raise problem("course_not_found")
        return course

    @staticmethod
    def selecting_actor(principal: Principal, teacher: Doc) -> Actor:
        """Who selects for the teacher: themself, their school's admins, or the city (not a district)."""
        level = covering_level(
            principal, ce_number=teacher["_id"], school_id=teacher.get("school_id"), levels=SELECTING_LEVELS
        )
        if level is None:
            raise problem("selection_forbidden")
        return ACTOR_AT[level]

    # -- selecting -----------------------------------------------------------------------------
    async def select(
        self,
        principal: Principal,
        term_code: str,
        ce_number: str,
        course_code: str,
        *,
        via: str = "self",
        expected_name: str | None = None,
        term: Doc | None = None,
    ) -> Doc:
        term = term or await self.terms.get_term_cached(term_code)
        teacher = await self._teacher(ce_number)
        actor = self.selecting_actor(principal, teacher)
        if expected_name is not None and expected_name.strip() != teacher.get("name"):
            raise problem("name_mismatch")
        course = await self._course(term_code, course_code)
        refusal = (
            selection_refusal(window_open=window_open(term, self.clock.now()), actor=actor)
            or teacher_refusal(teacher)
            or course_refusal(course, teacher, actor=actor)
            or ("course_closed" if course.get("status", "open") != "open" else None)
        )
        if refusal:
            raise problem(refusal)
        doc = await self.place(principal, term_code, teacher, course, actor=actor, via=via)
        return selection_view(doc)

    async def place(
        self, principal: Principal, term_code: str, teacher: Doc, course: Doc, *, actor: Actor, via: str
    ) -> Doc:
        """Take a place and insert the selection with its event; compensate on failure."""
        key = active_key(term_code, teacher["_id"], course["code"])
        if not await self.courses.reserve(course["_id"], course.get("capacity")):
            # Full: say "already selected" when that is the teacher's real situation.
            if await self.selections.active_by_key(key) is not None:
                raise problem("already_selected")
            raise problem("course_full")
        now = self.clock.now()
        selection_id = uuid.uuid4().hex
        doc: Doc = {
            "_id": selection_id,
            "term": term_code,
            "ce_number": teacher["_id"],
            "name": teacher.get("name"),
            "school_id": teacher.get("school_id"),
            "school_name": teacher.get("school_name"),
            "district": teacher.get("district"),
            "subject": teacher.get("subject"),
            "stage": teacher.get("stage"),
            "course_code": course["code"],
            "course_name": course["name"],
            "course_type": course.get("course_type"),
            "programme": course["programme"],
            "hour_type": course["hour_type"],
            "hours": course["hours"],
            "training_fee_fen": course.get("training_fee_fen", 0),
            "material_fee_fen": course.get("material_fee_fen", 0),
            "payee": course.get("payee"),
            "institution_id": course.get("institution_id"),
            "ability_category": course.get("ability_category"),
            "status": "active",
            "active_key": key,
            "selected_by": actor.value,
            "selected_by_subject": principal.subject,
            "via": via,
            "created_at": now,
            "cancelled_at": None,
            "paid": False,
            "bill_id": None,
            "learning_started": False,
            "result": None,
            "result_registered_at": None,
        }
        event = SelectionMade(
            selection_id=selection_id,
            term=term_code,
            ce_number=teacher["_id"],
            school_id=teacher.get("school_id") or "",
            district=teacher.get("district") or "",
            course_code=course["code"],
            course_name=course["name"],
            programme=course["programme"],
            hour_type=course["hour_type"],
            hours=float(course["hours"]),
            training_fee=catalogue.fen_to_yuan(course.get("training_fee_fen")),
            material_fee=catalogue.fen_to_yuan(course.get("material_fee_fen")),
            payee=course.get("payee") or "",
            selected_by=SELECTED_BY.get(actor, "school_admin"),
        )
        try:
            await self.selections.add(doc, [outbox_entry(event, producer=PRODUCER, actor=actor_of(principal))])
        except AlreadySelected as exc:
            await self.courses.release(course["_id"])
            raise problem("already_selected") from exc
        except BaseException:
            # The insert may have reached the store before the error: give the place back only
            # when the selection is surely absent (a lost place is safe, an extra one is not).
            await asyncio.shield(self._release_unless_stored(course["_id"], selection_id))
            raise
        return doc

    async def _release_unless_stored(self, course_key: str, selection_id: str) -> None:
        try:
            if not await self.selections.exists(selection_id):
                await self.courses.release(course_key)
        except Exception:  # the store is unreachable: keep the place taken
            return

    async def collective(
        self, principal: Principal, term_code: str, rows: Sequence[tuple[str, str, str | None]], *, via: str
    ) -> list[RowResult]:
        """集体选课: one request, many (teacher, course) rows, each with its own result. Rows are
        independent: an accepted row is complete, a rejected one leaves no trace."""
        if not principal.has_role(Role.SCHOOL_ADMIN, Role.PRINCIPAL, Role.CITY_ADMIN):
            raise problem("selection_forbidden")
        term = await self.terms.get_term(term_code)
        gate = asyncio.Semaphore(self.collective_concurrency)

        async def one(index: int, ce_number: str, course_code: str, name: str | None) -> RowResult:
            async with gate:
                try:
                    view = await self.select(
                        principal, term_code, ce_number, course_code, via=via, expected_name=name, term=term
                    )
                except AppError as error:
                    return RowResult(index, ce_number, course_code, False, None, error.code, error.title, error.detail)
                return RowResult(index, ce_number, course_code, True, view["id"])

        return list(await asyncio.gather(*(one(i, ce, code, name) for i, (ce, code, name) in enumerate(rows, 1))))

    # -- cancelling and deleting ---------------------------------------------------------------
    async def get(self, principal: Principal, term_code: str, selection_id: str) -> Doc:
        doc = await self.selections.get(selection_id)
        if doc is None or doc["term"] != term_code or not self._can_read(principal, doc):
            raise NotFound(f"Selection {selection_id} not found.", code="selection_not_found", title="选课记录不存在")
        return doc

    @staticmethod
    def _can_read(principal: Principal, doc: Doc) -> bool:
        if covers(principal, ce_number=doc["ce_number"], school_id=doc.get("school_id"), district=doc.get("district")):
            return True
        institution = principal.scopes.get("institution_id")
        return (
            principal.has_role(Role.INSTITUTION)
            and institution is not None
            and institution == doc.get("institution_id")
        )

    @staticmethod
    def deleting_actor(principal: Principal, doc: Doc) -> Actor:
        level = covering_level(
            principal, ce_number=doc["ce_number"], school_id=doc.get("school_id"), levels=SELECTING_LEVELS
        )
        if level is not None:
            return ACTOR_AT[level]
        if principal.has_role(Role.INSTITUTION):
            return Actor.INSTITUTION
        raise problem("selection_forbidden")

    async def delete(self, principal: Principal, term_code: str, selection_id: str) -> None:
        """Cancel (teacher) or delete (admin, institution) a selection; idempotent: deleting a
        cancelled selection again is a no-op. Conditional on the result read, so a result registered
        meanwhile is seen (a passed one refuses the deletion)."""
        for _attempt in range(3):
            doc = await self.get(principal, term_code, selection_id)
            if doc["status"] != "active":
                return
            self._refuse_deletion(principal, doc, await self.terms.get_term_cached(term_code))
            if await self.cancel(principal, doc, actor=self.deleting_actor(principal, doc), guard_result=True):
                return
        raise problem("selection_busy")

    def _refuse_deletion(self, principal: Principal, doc: Doc, term: Doc) -> None:
        actor = self.deleting_actor(principal, doc)
        institution = principal.scopes.get("institution_id")
        refusal = deletion_refusal(
            actor=actor,
            window_open=window_open(term, self.clock.now()),
            institution_of_course=institution is not None and institution == doc.get("institution_id"),
            paid=bool(doc.get("paid")),
            passed=doc.get("result") == "passed",
            own_school_course=doc.get("programme") == "school"
            and covers(principal, school_id=doc.get("school_id"), levels=SCHOOL_LEVEL),
            locked_compulsory=(
                doc.get("programme") == "ability"
                and doc.get("ability_category") in ability_rules.COMPULSORY
                and actor is not Actor.INSTITUTION
            ),
        )
        if refusal is None and doc.get("programme") == "ability" and actor is not Actor.INSTITUTION:
            # teachers and admins change ability courses through the plan, which keeps the total >= 50 h
            refusal = "ability_plan_change_required"
        if refusal:
            raise problem(refusal)

    async def cancel(self, principal: Principal, doc: Doc, *, actor: Actor, guard_result: bool = False) -> bool:
        """``guard_result``: only while no result was registered since ``doc`` was read."""
        event = SelectionCancelled(
            selection_id=doc["_id"],
            term=doc["term"],
            ce_number=doc["ce_number"],
            school_id=doc.get("school_id") or "",
            course_code=doc["course_code"],
            cancelled_by=actor.value,
        )
        fields = {
            "cancelled_at": self.clock.now(),
            "cancelled_by": actor.value,
            "cancelled_by_subject": principal.subject,
        }
        cancelled = await self.selections.cancel(
            doc["_id"],
            fields,
            [outbox_entry(event, producer=PRODUCER, actor=actor_of(principal))],
            result_seq=doc.get("result_seq") if guard_result else ...,
        )
        if cancelled:
            await self.courses.release(catalogue.course_id(doc["term"], doc["course_code"]))
        return cancelled

    # -- queries -------------------------------------------------------------------------------
    async def course_list(self, principal: Principal, term_code: str, ce_number: str) -> tuple[list[Doc], Doc]:
        """我的课单: the teacher's selections of the term, and the window countdown."""
        term = await self.terms.get_term(term_code)
        teacher = await self._teacher(ce_number)
        if not covers(
            principal, ce_number=teacher["_id"], school_id=teacher.get("school_id"), district=teacher.get("district")
        ):
            raise problem("teacher_not_found")
        docs = await self.selections.find_many({"term": term_code, "ce_number": ce_number})
        return docs, {
            "window_open": window_open(term, self.clock.now()),
            "seconds_until_close": seconds_until_close(term, self.clock.now()),
        }

    async def school_selections(
        self, principal: Principal, term_code: str, school_id: str, course_code: str | None, page: int, size: int
    ) -> tuple[list[Doc], int]:
        """学员选课情况 for one school (admins of that school, its district, the city)."""
        query: Doc = {"term": term_code, "school_id": school_id, "status": "active"}
        if not covers(principal, school_id=school_id, levels=SCHOOL_OR_CITY):
            # a district admin sees its own district's schools only (the school's district is not read here)
            district = scope_filter(principal, levels=frozenset({Level.DISTRICT}))
            if district is None:
                raise Forbidden("Not an administrator of this school.", code="school_forbidden", title="无权管理该学校")
            query.update(district)
        await self.terms.get_term(term_code)
        if course_code:
            query["course_code"] = course_code
        return await self.selections.find_many(query, skip=(page - 1) * size, limit=size), await self.selections.count(
            query
        )

    async def course_counts(
        self, principal: Principal, term_code: str, district: str | None, school_id: str | None
    ) -> list[Doc]:
        """选课统计: active selections per course, for the city, a district or a school (no personal
        data). District admins see their district, school admins their school."""
        scope = scope_filter(principal, levels=ADMIN_LEVELS)
        if scope is None:
            raise Forbidden(
                "Selection statistics are for administrators.", code="statistics_forbidden", title="无权查看选课统计"
            )
        await self.terms.get_term(term_code)
        query: Doc = {"term": term_code}
        if district:
            query["district"] = district
        if school_id:
            query["school_id"] = school_id
        query.update(scope)  # the caller's own district or school wins over the one asked for
        return [
            {"course_code": row["_id"], "course_name": row.get("course_name"), "selected": row["n"]}
            for row in await self.selections.counts_by_course(query)
        ]

    # -- cart ----------------------------------------------------------------------------------
    def _ensure_own(self, principal: Principal, ce_number: str) -> None:
        if not covers(principal, ce_number=ce_number, levels=frozenset({Level.SELF})):
            raise Forbidden("A cart belongs to its teacher.", code="cart_forbidden", title="只能操作自己的购物车")

    async def cart_add(self, principal: Principal, term_code: str, ce_number: str, course_code: str) -> dict[str, Doc]:
        self._ensure_own(principal, ce_number)
        await self.terms.get_term(term_code)
        course = await self._course(term_code, course_code)
        item = {
            "course_code": course["code"],
            "course_name": course["name"],
            "hours": course["hours"],
            "added_at": self.clock.now(),
        }
        await self.carts.put(term_code, ce_number, course_code, item)
        return await self.carts.items(term_code, ce_number)

    async def cart_remove(self, principal: Principal, term_code: str, ce_number: str, course_code: str) -> None:
        self._ensure_own(principal, ce_number)
        await self.carts.remove(term_code, ce_number, course_code)

    async def cart(self, principal: Principal, term_code: str, ce_number: str) -> dict[str, Doc]:
        self._ensure_own(principal, ce_number)
        return await self.carts.items(term_code, ce_number)

    async def cart_checkout(self, principal: Principal, term_code: str, ce_number: str) -> list[RowResult]:
        """确定选课: select every course in the cart; each gets its own result; selected ones leave the cart."""
        self._ensure_own(principal, ce_number)
        items = await self.carts.items(term_code, ce_number)
        results: list[RowResult] = []
        for index, code in enumerate(sorted(items), 1):
            try:
                view = await self.select(principal, term_code, ce_number, code, via="cart")
            except AppError as error:
                results.append(RowResult(index, ce_number, code, False, None, error.code, error.title, error.detail))
                continue
            await self.carts.remove(term_code, ce_number, code)
            results.append(RowResult(index, ce_number, code, True, view["id"]))
        return results


async def import_rows(
    service: SelectionService, principal: Principal, term_code: str, rows: Sequence[Any]
) -> list[RowResult]:
    """Excel import of collective selections: the same rules as the API, one result per sheet row."""
    usable = [row for row in rows if row.problem is None]
    results = await service.collective(
        principal, term_code, [(row.ce_number, row.course_code, row.name) for row in usable], via="import"
    )
    by_row = {row.row: result for row, result in zip(usable, results, strict=True)}
    report: list[RowResult] = []
    for row in rows:
        if row.problem is not None:
            report.append(
                RowResult(
                    row.row,
                    row.ce_number,
                    row.course_code,
                    False,
                    None,
                    "missing_cells",
                    "学号或课程编号为空",
                    "The row lacks the CE number or the course code.",
                )
            )
        else:
            result = by_row[row.row]
            report.append(
                RowResult(
                    row.row,
                    result.ce_number,
                    result.course_code,
                    result.accepted,
                    result.selection_id,
                    result.code,
                    result.title,
                    result.detail,
                )
            )
    return report
