"""Ability-improvement project use cases (DOMAIN §2a): pilot scope, diagnostic assessment, the
plan (three locked compulsory courses + optional micro-courses, confirmed at >= 50 h), later
changes of optional courses inside the window, programme status, retakes (重修).

Selections of ability courses are ordinary selection documents (same capacity counter, unique
active key and SelectionMade/SelectionCancelled events), created only through this service; the
school admin cannot select them collectively."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from enrollment.adapters.ability_repository import AbilityRepository
from enrollment.adapters.catalogue_repository import CourseQuery
from enrollment.domain import ability as rules
from enrollment.domain.selection import Actor, teacher_refusal
from enrollment.domain.terms import window_open
from enrollment.service_layer.results import ResultsService, term_year
from enrollment.service_layer.selection import SelectionService, problem
from enrollment.service_layer.terms import TermService
from jijiao_contracts.enums import Role
from jijiao_kit.access import Level, covers
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound

Doc = dict[str, Any]

PROBLEMS: dict[str, tuple[int, str, str]] = {
    "profile_incomplete": (
        409,
        "请先完善并审核通过任教学段和学科",
        "The teacher's stage and subject must be set first.",
    ),
    "not_in_pilot": (
        409,
        "您所在的区或学科不在本期能力提升工程试点范围内",
        "Not in this term's pilot districts x subjects.",
    ),
    "diagnostic_confirmed": (409, "诊断测评结果已确认，不能再测", "The diagnostic result is already confirmed."),
    "diagnostic_attempts_exhausted": (409, "诊断测评最多可测 3 次", "At most 3 diagnostic attempts."),
    "diagnostic_incomplete": (
        422,
        "测评时间不少于 20 分钟，中断后须重新开始",
        "An attempt counts only after at least 20 minutes; an interrupted one starts over.",
    ),
    "diagnostic_attempt_not_found": (404, "没有该次测评记录", "No such attempt."),
    "diagnostic_not_confirmed": (409, "请先完成诊断测评并确认结果", "Confirm a diagnostic result first."),
    "ability_compulsory_missing": (
        409,
        "本期缺少与您学科学段匹配的必修课程",
        "A compulsory course is missing for this teacher.",
    ),
    "ability_optional_below_minimum": (
        409,
        "任意选修课程不少于 8 学时",
        "Optional courses must total at least 8 hours.",
    ),
    "ability_hours_below_minimum": (
        409,
        "选课总学时须不少于 50 学时才能确认",
        "The plan must total at least 50 hours.",
    ),
    "ability_unknown_course": (
        422,
        "所选课程不是本期能力提升工程的任意选修课程",
        "Not an optional ability course of this term.",
    ),
    "ability_plan_not_confirmed": (409, "请先确认能力提升工程选课", "Confirm the ability plan first."),
    "ability_plan_confirmed": (
        409,
        "能力提升工程选课已确认，请在选课时间内调整任意选修课程",
        "The plan is already confirmed.",
    ),
}


def ability_problem(code: str, **extra: Any) -> AppError:
    if code not in PROBLEMS:
        return problem(code, **extra)
    status, title, detail = PROBLEMS[code]
    return AppError(detail, code=code, title=title, status=status, extra=extra or None)


def course_brief(course: Doc) -> Doc:
    return {
        "code": course["code"],
        "name": course["name"],
        "hours": course["hours"],
        "ability_category": course.get("ability_category"),
        "series": course.get("series"),
        "subject": course.get("subject"),
        "stage": course.get("stage"),
    }


@dataclass(frozen=True)
class Attempt:
    started_at: datetime
    finished_at: datetime
    score: float
    level: str | None = None


class AbilityService:
    def __init__(
        self,
        repo: AbilityRepository,
        terms: TermService,
        selection: SelectionService,
        results: ResultsService,
        clock: Clock,
    ) -> None:
        self.repo = repo
        self.terms = terms
        self.selection = selection
        self.results = results
        self.clock = clock
        self.rules = rules.RULES

    # -- pilot scope -----------------------------------------------------------------------------
    async def set_pilot(self, principal: Principal, term_code: str, district: str, subjects: list[str]) -> Doc:
        if not principal.has_role(Role.CITY_ADMIN):
            raise Forbidden(
                "Only the city sets the pilot scope.", code="pilot_forbidden", title="只有市级管理员可以设置试点范围"
            )
        await self.terms.get_term(term_code)
        cleaned = sorted({subject.strip() for subject in subjects if subject.strip()})
        return await self.repo.set_pilot(term_code, district, cleaned, principal.subject, self.clock.now())

    async def pilots(self, term_code: str) -> list[Doc]:
        await self.terms.get_term(term_code)
        return await self.repo.pilots_of(term_code)

    # -- helpers ---------------------------------------------------------------------------------
    async def _teacher_for(self, principal: Principal, ce_number: str, *, act: bool) -> Doc:
        teacher = await self.selection.teachers.get(ce_number)
        if teacher is None or not covers(
            principal, ce_number=ce_number, school_id=teacher.get("school_id"), district=teacher.get("district")
        ):
            raise NotFound(f"Teacher {ce_number} not found.", code="teacher_not_found", title="教师不存在")
        if act and not covers(principal, ce_number=ce_number, levels=frozenset({Level.SELF})):
            # §2a: the teacher assesses and chooses personally; no collective ability selection.
            raise Forbidden(
                "Only the teacher takes the assessment and chooses ability courses.",
                code="ability_self_only",
                title="能力提升工程须由教师本人测评和选课",
            )
        return teacher

    async def _eligible(self, term_code: str, teacher: Doc) -> None:
        pilot = await self.repo.pilot(term_code, teacher.get("district") or "")
        refusal = rules.eligibility_refusal(teacher, pilot["subjects"] if pilot else None) or teacher_refusal(teacher)
        if refusal:
            raise ability_problem(refusal)

    async def _courses(self, term_code: str) -> list[Doc]:
        return await self.selection.courses.all_of(term_code, CourseQuery(programme="ability"))

    # -- diagnostic assessment -------------------------------------------------------------------
    async def record_attempt(self, principal: Principal, term_code: str, ce_number: str, attempt: Attempt) -> Doc:
        await self.terms.get_term(term_code)
        teacher = await self._teacher_for(principal, ce_number, act=True)
        await self._eligible(term_code, teacher)
        if attempt.finished_at <= attempt.started_at or not rules.attempt_complete(
            attempt.started_at, attempt.finished_at, self.rules
        ):
            raise ability_problem("diagnostic_incomplete")
        for _ in range(5):  # optimistic: the attempt count is the version
            plan = await self.repo.ensure_plan(term_code, ce_number)
            refusal = rules.attempt_refusal(plan["attempts_used"], plan["confirmed_attempt"] is not None, self.rules)
            if refusal:
                raise ability_problem(refusal)
            record = {**attempt.__dict__, "recorded_at": self.clock.now()}
            if await self.repo.add_attempt(term_code, ce_number, plan["attempts_used"], record):
                return await self.repo.ensure_plan(term_code, ce_number)
        raise Conflict("Concurrent attempts; retry.", code="diagnostic_busy", title="请稍后再试")

    async def confirm_attempt(self, principal: Principal, term_code: str, ce_number: str, number: int) -> Doc:
        await self._teacher_for(principal, ce_number, act=True)
        plan = await self.repo.plan(term_code, ce_number)
        if plan is None or str(number) not in (plan.get("attempts") or {}):
            raise ability_problem("diagnostic_attempt_not_found")
        if plan.get("confirmed_attempt") is not None:
            raise ability_problem("diagnostic_confirmed")
        if not await self.repo.confirm_attempt(term_code, ce_number, number, self.clock.now()):
            raise ability_problem("diagnostic_confirmed")
        return await self.repo.ensure_plan(term_code, ce_number)

    async def diagnostics(self, principal: Principal, term_code: str, ce_number: str) -> Doc:
        await self._teacher_for(principal, ce_number, act=False)
        return await self.repo.plan(term_code, ce_number) or {
            "attempts_used": 0,
            "attempts": {},
            "confirmed_attempt": None,
        }

    # -- the plan --------------------------------------------------------------------------------
    async def proposal(self, principal: Principal, term_code: str, ce_number: str) -> Doc:
        """The three compulsory courses, the recommended optional courses (total <= 60 h, larger
        first) and, for "re-select", the optional courses not recommended."""
        await self.terms.get_term(term_code)
        teacher = await self._teacher_for(principal, ce_number, act=False)
        await self._eligible(term_code, teacher)
        plan = await self.repo.plan(term_code, ce_number)
        if plan is None or plan.get("confirmed_attempt") is None:
            raise ability_problem("diagnostic_not_confirmed")
        courses = await self._courses(term_code)
        compulsory = rules.compulsory_courses(courses, subject=teacher["subject"], stage=teacher["stage"])
        optional = [course for course in courses if course.get("ability_category") == rules.OPTIONAL]
        recommended = rules.recommend_optional(optional, compulsory_hours=rules.total_hours(compulsory.values()))
        selected = await self._active(term_code, ce_number)
        return {
            "term": term_code,
            "ce_number": ce_number,
            "compulsory": [course_brief(compulsory[c]) for c in rules.COMPULSORY if c in compulsory],
            "missing_compulsory": [c for c in rules.COMPULSORY if c not in compulsory],
            "recommended_optional": [course_brief(c) for c in recommended],
            "other_optional": [
                course_brief(c)
                for c in sorted(
                    rules.not_recommended(optional, recommended), key=lambda c: (-float(c["hours"]), c["code"])
                )
            ],
            "recommended_total_hours": rules.total_hours(compulsory.values()) + rules.total_hours(recommended),
            "plan_confirmed": bool(plan.get("plan_confirmed")),
            "selected": [
                {
                    "selection_id": s["_id"],
                    "course_code": s["course_code"],
                    "hours": s["hours"],
                    "ability_category": s.get("ability_category"),
                }
                for s in selected
            ],
            "selected_total_hours": rules.total_hours(selected),
        }

    async def _active(self, term_code: str, ce_number: str) -> list[Doc]:
        return await self.selection.selections.find_many(
            {"term": term_code, "ce_number": ce_number, "programme": "ability", "status": "active"}
        )

    async def _desired(
        self, term_code: str, teacher: Doc, codes: list[str], series: list[str]
    ) -> tuple[dict[str, Doc], list[Doc]]:
        courses = await self._courses(term_code)
        compulsory = rules.compulsory_courses(courses, subject=teacher["subject"], stage=teacher["stage"])
        optional_all = [course for course in courses if course.get("ability_category") == rules.OPTIONAL]
        chosen = rules.expand_series(optional_all, codes=codes, series=series)
        known = {course["code"] for course in optional_all}
        known_series = {course.get("series") for course in optional_all if course.get("series")}
        unknown = [code for code in codes if code not in known] + [s for s in series if s not in known_series]
        if unknown:
            raise ability_problem("ability_unknown_course", unknown=unknown)
        refusal = rules.confirm_refusal(compulsory, chosen, self.rules)
        if refusal:
            raise ability_problem(
                refusal,
                total_hours=rules.total_hours(compulsory.values()) + rules.total_hours(chosen),
                optional_hours=rules.total_hours(chosen),
            )
        return compulsory, chosen

    async def _apply(
        self, principal: Principal, term_code: str, teacher: Doc, wanted: list[Doc], *, drop: list[Doc]
    ) -> list[Doc]:
        """Select ``wanted`` (already active ones are kept), then cancel ``drop``. If a wanted
        course cannot be taken, the selections made by this call are cancelled again and the
        refusal is raised: the plan changes completely or not at all."""
        active = {s["course_code"]: s for s in await self._active(term_code, teacher["_id"])}
        made: list[Doc] = []
        for course in wanted:
            if course["code"] in active:
                continue
            refusal = "course_closed" if course.get("status", "open") != "open" else None
            try:
                if refusal:
                    raise problem(refusal)
                made.append(
                    await self.selection.place(
                        principal, term_code, teacher, course, actor=Actor.TEACHER, via="ability"
                    )
                )
            except AppError as error:
                for doc in made:
                    await self.selection.cancel(principal, doc, actor=Actor.SYSTEM)
                error.extra = {**error.extra, "course_code": course["code"]}
                raise
        for doc in drop:
            await self.selection.cancel(principal, doc, actor=Actor.TEACHER)
        return made

    async def confirm_plan(
        self, principal: Principal, term_code: str, ce_number: str, codes: list[str], series: list[str]
    ) -> Doc:
        """确认选课: only at >= 50 h with the three compulsory courses (pre-selected, locked)."""
        term = await self.terms.get_term(term_code)
        teacher = await self._teacher_for(principal, ce_number, act=True)
        await self._eligible(term_code, teacher)
        if not window_open(term, self.clock.now()):
            raise problem("window_closed")
        plan = await self.repo.plan(term_code, ce_number)
        if plan is None or plan.get("confirmed_attempt") is None:
            raise ability_problem("diagnostic_not_confirmed")
        if plan.get("plan_confirmed"):
            raise ability_problem("ability_plan_confirmed")
        compulsory, chosen = await self._desired(term_code, teacher, codes, series)
        await self._apply(principal, term_code, teacher, [*compulsory.values(), *chosen], drop=[])
        await self.repo.record_plan(
            term_code,
            ce_number,
            {
                "plan_confirmed": True,
                "plan_confirmed_at": self.clock.now(),
                "optional_codes": sorted(c["code"] for c in chosen),
            },
        )
        return await self.proposal(principal, term_code, ce_number)

    async def change_optional(
        self, principal: Principal, term_code: str, ce_number: str, codes: list[str], series: list[str]
    ) -> Doc:
        """Optional courses can be changed later inside the window; the total stays >= 50 h."""
        term = await self.terms.get_term(term_code)
        teacher = await self._teacher_for(principal, ce_number, act=True)
        await self._eligible(term_code, teacher)  # a special user or an archived teacher selects nothing
        if not window_open(term, self.clock.now()):
            raise problem("window_closed")
        plan = await self.repo.plan(term_code, ce_number)
        if plan is None or not plan.get("plan_confirmed"):
            raise ability_problem("ability_plan_not_confirmed")
        _, chosen = await self._desired(term_code, teacher, codes, series)
        wanted = {course["code"] for course in chosen}
        drop = [
            s
            for s in await self._active(term_code, ce_number)
            if s.get("ability_category") == rules.OPTIONAL and s["course_code"] not in wanted
        ]
        await self._apply(principal, term_code, teacher, chosen, drop=drop)
        await self.repo.record_plan(term_code, ce_number, {"optional_codes": sorted(wanted)})
        return await self.proposal(principal, term_code, ce_number)

    # -- status and retakes ----------------------------------------------------------------------
    async def status(self, principal: Principal, term_code: str, ce_number: str) -> Doc:
        """达标情况: hours obtained, compulsory passed, programme passed (results registered on the
        selections by the training institution)."""
        await self._teacher_for(principal, ce_number, act=False)
        selections = await self._active(term_code, ce_number)
        state = rules.programme_status(selections, self.rules)
        return {
            "term": term_code,
            "ce_number": ce_number,
            "obtained_hours": state.obtained_hours,
            "compulsory_passed": state.compulsory_passed,
            "passed": state.passed,
            "courses": [
                {
                    "course_code": s["course_code"],
                    "ability_category": s.get("ability_category"),
                    "hours": s["hours"],
                    "result": s.get("result"),
                }
                for s in selections
            ],
        }

    async def open_retakes(self, principal: Principal, term_code: str, starts: date, ends: date) -> Doc:
        """重修: reopen every ability course failed in an earlier term, with the study period the
        city sets. Idempotent (one retake per term x teacher x course)."""
        if not principal.has_role(Role.CITY_ADMIN):
            raise Forbidden("Only the city opens retakes.", code="retake_forbidden", title="只有市级管理员可以开放重修")
        if ends < starts:
            raise InvalidInput(
                "The study period must start before it ends.", code="invalid_retake_dates", title="重修学习时间不正确"
            )
        await self.terms.get_term(term_code)
        failed = await self.selection.selections.find_many(
            {"programme": "ability", "result": "failed", "status": "active", "term": {"$lt": term_code}}, limit=100_000
        )
        opened = 0
        for selection in rules.retake_candidates(failed, term=term_code):
            retake = {
                "_id": f"{term_code}:{selection['ce_number']}:{selection['course_code']}",
                "term": term_code,
                "ce_number": selection["ce_number"],
                "school_id": selection.get("school_id"),
                "district": selection.get("district"),
                "course_code": selection["course_code"],
                "course_name": selection.get("course_name"),
                "hours": selection.get("hours"),
                "ability_category": selection.get("ability_category"),
                "institution_id": selection.get("institution_id"),
                "from_term": selection["term"],
                "from_selection_id": selection["_id"],
                "study_starts_on": datetime(starts.year, starts.month, starts.day),
                "study_ends_on": datetime(ends.year, ends.month, ends.day),
                "status": "open",
                "passed": None,
                "opened_at": self.clock.now(),
            }
            opened += int(await self.repo.open_retake(retake))
        return {"term": term_code, "opened": opened, "failed_found": len(failed)}

    async def retakes(self, principal: Principal, term_code: str, ce_number: str | None) -> list[Doc]:
        docs = await self.repo.retakes_of(term_code, ce_number)
        institution = principal.scopes.get("institution_id")
        return [
            doc
            for doc in docs
            if covers(
                principal, ce_number=doc["ce_number"], school_id=doc.get("school_id"), district=doc.get("district")
            )
            or (
                principal.has_role(Role.INSTITUTION)
                and institution is not None
                and institution == doc.get("institution_id")
            )
        ]

    async def course_result(
        self,
        principal: Principal,
        term_code: str,
        ce_number: str,
        course_code: str,
        *,
        compulsory_done: int,
        compulsory_total: int,
        assignment_passed: bool | None,
    ) -> Doc:
        """An ability course's result from what the teacher did (§2a): passed with at least 60 % of the
        compulsory activities done, plus the assignment where the course has one. Registered like any
        result (same registrars, same event), so the hours bank and the programme status follow."""
        course = await self.results.course(term_code, course_code)
        if course.get("programme") != "ability":
            raise InvalidInput(
                "Not an ability-project course.", code="not_ability_course", title="该课程不属于能力提升工程"
            )
        if compulsory_done > compulsory_total:
            raise InvalidInput(
                "More activities done than there are.",
                code="invalid_activity_counts",
                title="完成活动数不能超过必修活动总数",
            )
        passed = rules.course_passed(
            compulsory_done=compulsory_done,
            compulsory_total=compulsory_total,
            has_assignment=bool(course.get("has_assignment")),
            assignment_passed=assignment_passed,
            rules=self.rules,
        )
        registration = await self.results.register(principal, term_code, ce_number, course_code, passed)
        return {
            "ce_number": ce_number,
            "course_code": course_code,
            "passed": passed,
            "changed": registration.changed,
            "result_id": registration.selection["_id"],
        }

    async def retake_result(self, principal: Principal, term_code: str, retake_id: str, passed: bool) -> Doc:
        retake = await self.repo.retake(retake_id)
        if retake is None or retake["term"] != term_code:
            raise NotFound("No such retake.", code="retake_not_found", title="重修记录不存在")
        institution = principal.scopes.get("institution_id")
        if not (
            principal.has_role(Role.CITY_ADMIN)
            or (
                principal.has_role(Role.INSTITUTION)
                and institution is not None
                and institution == retake.get("institution_id")
            )
        ):
            raise Forbidden(
                "Only the course's institution or the city registers retake results.",
                code="retake_forbidden",
                title="只有该课程的培训机构可以登记重修成绩",
            )
        # The course's result first (its ResultRegistered takes the hours to the hours bank), then the
        # retake's own record; a crash in between is mended by registering the retake result again.
        term = await self.terms.get_term(term_code)
        await self.results.register_retake(
            principal, retake["from_selection_id"], passed, term=term_code, year=term_year(term)
        )
        await self.repo.set_retake_result(retake_id, passed, principal.subject, self.clock.now())
        doc = await self.repo.retake(retake_id)
        assert doc is not None
        return doc
