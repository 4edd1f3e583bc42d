"""Result use cases (DOMAIN §4): registering results (→ ResultRegistered → the hours bank), the
learning-platform signal (LearningStarted), result certificates (成绩打印) and per-course pass rates."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from enrollment.adapters.documents.pdf_documents import ResultCertificate, result_certificate_pdf
from enrollment.adapters.results_repository import ResultRepository
from enrollment.domain import results as rules
from enrollment.domain.calendar import CHINA, china_year
from enrollment.service_layer.access import can_read_teacher
from jijiao_contracts import Actor
from jijiao_contracts.enums import HourCategory, Role
from jijiao_contracts.events.enrollment import PRODUCER, LearningStarted, ResultRegistered
from jijiao_kit.access import ADMIN_LEVELS, covers, scope_filter
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.errors import AppError, Conflict, Forbidden, NotFound
from jijiao_kit.outbox import outbox_entry
from jijiao_kit.timeutil import as_utc

Doc = dict[str, Any]
HOUR_TYPE_LABELS = {"public": "公需科目", "professional": "专业科目", "elective": "个人选修"}

REFUSALS = {
    "not_course_institution": (Forbidden, "只能为本机构的课程登记成绩"),
    "not_school_course": (Forbidden, "只能为本校的校本课程登记成绩"),
    "result_year_closed": (Conflict, "只能登记本年度的校本培训成绩，其他年度成绩仅可查看"),
    "results_forbidden": (Forbidden, "无权登记成绩"),
    "result_not_passed": (Conflict, "该课程未通过，不能打印成绩证明"),
    "selection_cancelled": (Conflict, "该选课已取消"),
}


def refusal_error(code: str, detail: str) -> Exception:
    error_class, title = REFUSALS[code]
    return error_class(detail, code=code, title=title)


def actor_of(principal: Principal) -> Actor:
    return Actor(subject=principal.subject, role=sorted(principal.roles)[0] if principal.roles else None)


def registrar_of(principal: Principal) -> rules.Registrar:
    if principal.has_role(Role.CITY_ADMIN, Role.REMOTE_CENTRE):
        return rules.Registrar(rules.RegistrarKind.CITY)
    if principal.has_role(Role.INSTITUTION):
        return rules.Registrar(rules.RegistrarKind.INSTITUTION, institution_id=principal.scopes.get("institution_id"))
    if principal.has_role(Role.SCHOOL_ADMIN, Role.PRINCIPAL):  # the principal uses the school platform (§0)
        return rules.Registrar(rules.RegistrarKind.SCHOOL, school_id=principal.school_id)
    return rules.Registrar(rules.RegistrarKind.NONE)


#: Who reads every school's results (the remote-training centre too).
RESULT_CITY_ROLES = (Role.CITY_ADMIN, Role.REMOTE_CENTRE)


def admin_scope(principal: Principal, school_id: str | None, *, narrow_district: bool = True) -> Doc | None:
    """The selection query restriction of an administrator (None for everyone else), narrowed to
    ``school_id`` when given: the city anywhere, a district within its district (only when
    ``narrow_district``), a school admin only its own school (another one is refused)."""
    scope = scope_filter(principal, levels=ADMIN_LEVELS, city_roles=RESULT_CITY_ROLES)
    if scope is None:
        return None
    if "school_id" in scope:
        if school_id and school_id != scope["school_id"]:
            raise Forbidden("Not an administrator of this school.", code="school_forbidden", title="无权查看该学校")
    elif school_id and (narrow_district or not scope):
        scope["school_id"] = school_id
    return scope


def term_year(term: Doc) -> int:
    return int(term.get("year") or 2000 + int(str(term["_id"])[:2]))


@dataclass(frozen=True)
class Registration:
    selection: Doc
    changed: bool


@dataclass(frozen=True)
class LearningRow:
    index: int
    ce_number: str
    course_code: str
    outcome: str  # started | already | missing


class ResultsService:
    def __init__(self, repo: ResultRepository, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock

    async def _term(self, term: str) -> Doc:
        doc = await self.repo.term(term)
        if doc is None:
            raise NotFound(f"Term {term} not found.", code="term_not_found", title="培训期不存在")
        return doc

    async def register(
        self, principal: Principal, term: str, ce_number: str, course_code: str, passed: bool
    ) -> Registration:
        """One result per selection: a second registration updates it (the event carries the same
        ``result_id``, the selection id, so the hours bank never counts a course twice)."""
        term_doc = await self._term(term)
        course = await self.course(term, course_code)
        year = term_year(term_doc)
        refusal = rules.registration_refusal(
            registrar_of(principal), course, course_year=year, current_year=china_year(self.clock.now())
        )
        if refusal:
            raise refusal_error(refusal, f"Refused: {refusal}.")

        async def selection() -> Doc:
            found = await self.repo.active_selection(term, ce_number, course_code)
            if found is None:
                raise NotFound(
                    f"{ce_number} has no active selection of {course_code} in {term}.",
                    code="selection_not_found",
                    title="该教师未选报此课程",
                )
            return found

        return await self._record(principal, selection, course, passed, term=term, year=year)

    async def register_retake(
        self, principal: Principal, selection_id: str, passed: bool, *, term: str, year: int
    ) -> Registration:
        """The result of a retake (重修) is the result of the course the teacher failed: registered on
        that selection (its next revision), for the retake's term and year, so the hours bank credits
        the course when the retake passes. The caller has checked who may register it."""

        async def selection() -> Doc:
            found = await self.repo.selection(selection_id)
            if found is None or found.get("status") != "active":
                raise NotFound("The retaken selection is gone.", code="selection_not_found", title="该教师未选报此课程")
            return found

        first = await selection()
        course = await self.course(first["term"], first["course_code"])
        return await self._record(principal, selection, course, passed, term=term, year=year)

    async def course(self, term: str, course_code: str) -> Doc:
        course = await self.repo.course(term, course_code)
        if course is None:
            raise NotFound(
                f"Course {course_code} not found in term {term}.", code="course_not_found", title="课程不存在"
            )
        return course

    async def _record(
        self,
        principal: Principal,
        load: Callable[[], Awaitable[Doc]],
        course: Doc,
        passed: bool,
        *,
        term: str,
        year: int,
    ) -> Registration:
        """Set the selection's result with its ResultRegistered event, conditional on the result read
        (``result_seq``), so two registrations never both apply and revisions never repeat."""
        value = rules.result_value(passed)
        for _attempt in range(50):
            selection = await load()
            if selection.get("result") == value:
                return Registration(selection, changed=False)
            seq = selection.get("result_seq")
            fields, events = self._result_write(principal, selection, course, passed, term=term, year=year)
            if await self.repo.set_result(
                selection["_id"], expected_seq=int(seq) if seq is not None else None, fields=fields, events=events
            ):
                return Registration({**selection, **fields}, changed=True)
            await asyncio.sleep(random.uniform(0, 0.01))
        raise Conflict("The selection is busy; retry.", code="result_busy", title="成绩正在登记，请稍后重试")

    def _result_write(
        self,
        principal: Principal,
        selection: Doc,
        course: Doc,
        passed: bool,
        *,
        term: str,
        year: int,
        request_id: str | None = None,
    ) -> tuple[Doc, list[Doc]]:
        """The selection's result fields and their ResultRegistered event (the next revision)."""
        value = rules.result_value(passed)
        now = self.clock.now()
        seq = selection.get("result_seq")
        event = ResultRegistered(
            result_id=selection["_id"],
            term=term,
            year=year,
            ce_number=selection["ce_number"],
            school_id=selection.get("school_id") or "",
            district=selection.get("district") or "",
            course_code=selection["course_code"],
            course_name=selection.get("course_name") or course.get("name") or "",
            programme=selection.get("programme") or course["programme"],
            passed=passed,
            category=HourCategory(selection.get("hour_type") or course["hour_type"]),
            hours=float(selection.get("hours") or course.get("hours") or 0),
            source=rules.hours_source(course.get("programme")),
            registered_by=principal.subject,
            revision=(int(seq) if seq is not None else 0) + 1,
        )
        detail: Doc = {"value": value, "registered_at": now, "registered_by": principal.subject}
        if request_id is not None:
            detail["request_id"] = request_id
        fields = {"result": value, "result_registered_at": now, "result_detail": detail}
        return fields, [outbox_entry(event, producer=PRODUCER, actor=actor_of(principal))]

    async def register_many(
        self, principal: Principal, term: str, rows: list[tuple[str, str, bool]]
    ) -> list[tuple[int, str, str, str | None, str | None]]:
        """成绩登记 in bulk: each row is registered like a single one (the same refusals, one result
        per selection, its event in the selection's own write), but the batch reads its courses and
        selections in a few commands and writes in bulk (5,000 rows took 17 s one by one). A refused
        row is reported with its code and changes nothing; a repeated batch changes nothing. A row whose
        selection an earlier row of the batch wrote, or that a concurrent registration overtook, goes
        the single-row way afterwards. Returns (index, ce_number, course_code, outcome, code)."""
        Row = tuple[int, str, str, str | None, str | None]
        term_doc = await self.repo.term(term)
        if term_doc is None:
            return [(index, ce, code, None, "term_not_found") for index, (ce, code, _passed) in enumerate(rows)]
        year, current_year = term_year(term_doc), china_year(self.clock.now())
        registrar = registrar_of(principal)
        courses = await self.repo.courses_in(term, [code for _ce, code, _passed in rows])
        selections = await self.repo.active_selections([f"{term}:{ce}:{code}" for ce, code, _passed in rows])
        request_id = uuid.uuid4().hex
        out: dict[int, Row] = {}
        writes: list[tuple[str, int | None, Doc, list[Doc]]] = []
        written: dict[str, int] = {}  # selection id -> the row that writes it
        touched: set[str] = set()
        later: list[int] = []
        for index, (ce_number, course_code, passed) in enumerate(rows):
            course = courses.get(course_code)
            if course is None:
                out[index] = (index, ce_number, course_code, None, "course_not_found")
                continue
            refusal = rules.registration_refusal(registrar, course, course_year=year, current_year=current_year)
            if refusal:
                out[index] = (index, ce_number, course_code, None, refusal)
                continue
            selection = selections.get(f"{term}:{ce_number}:{course_code}")
            if selection is None:
                out[index] = (index, ce_number, course_code, None, "selection_not_found")
                continue
            if selection["_id"] in touched:  # the same selection again: after this batch's write
                later.append(index)
                continue
            touched.add(selection["_id"])
            if selection.get("result") == rules.result_value(passed):
                out[index] = (index, ce_number, course_code, "unchanged", None)
                continue
            fields, events = self._result_write(
                principal, selection, course, passed, term=term, year=year, request_id=request_id
            )
            seq = selection.get("result_seq")
            writes.append((selection["_id"], int(seq) if seq is not None else None, fields, events))
            written[selection["_id"]] = index
        applied = await self.repo.set_results(writes, request_id)
        for selection_id, index in written.items():
            if selection_id in applied:
                ce_number, course_code, _passed = rows[index]
                out[index] = (index, ce_number, course_code, "registered", None)
            else:
                later.append(index)  # overtaken by a concurrent registration: the single-row way retries
        for index in sorted(later):
            ce_number, course_code, passed = rows[index]
            try:
                registration = await self.register(principal, term, ce_number, course_code, passed)
            except AppError as exc:
                out[index] = (index, ce_number, course_code, None, exc.code)
                continue
            outcome = "registered" if registration.changed else "unchanged"
            out[index] = (index, ce_number, course_code, outcome, None)
        return [out[index] for index in range(len(rows))]

    async def learning_started(self, principal: Principal, term: str, rows: list[tuple[str, str]]) -> list[LearningRow]:
        """学习人数: the learning platform's signal (or an operator's import) that a teacher began a course.
        Once per selection, its LearningStarted event in the selection's own write; the batch is read
        in a few commands and written in bulk (5,000 rows did not finish in 120 s one by one)."""
        if not principal.has_role(Role.CITY_ADMIN, Role.REMOTE_CENTRE):
            raise Forbidden(
                "Only the city centre imports learning progress.", code="forbidden", title="无权导入学习情况"
            )
        await self._term(term)
        keys = [f"{term}:{ce_number}:{course_code}" for ce_number, course_code in rows]
        found = await self.repo.active_selections(keys, {"_id": 1, "active_key": 1, "learning_started": 1})
        request_id = uuid.uuid4().hex
        detail = {"started_at": self.clock.now(), "reported_by": principal.subject, "request_id": request_id}
        actor = actor_of(principal)
        outcomes: list[str] = []
        first_row: dict[str, str] = {}  # key -> selection id, for the first row of each selection
        writes: list[tuple[str, str, Doc, list[Doc]]] = []
        for key, (ce_number, course_code) in zip(keys, rows, strict=True):
            doc = found.get(key)
            if doc is None:
                outcomes.append("missing")
            elif bool(doc.get("learning_started")) or key in first_row:
                outcomes.append("already")
            else:
                first_row[key] = str(doc["_id"])
                event = LearningStarted(term=term, ce_number=ce_number, course_code=course_code)
                entry = outbox_entry(event, producer=PRODUCER, actor=actor)
                writes.append((str(doc["_id"]), key, {"learning_detail": detail}, [entry]))
                outcomes.append("started")
        applied = await self.repo.mark_learning_started_many(writes, request_id)
        result = []
        seen: set[str] = set()
        for index, (key, (ce_number, course_code), outcome) in enumerate(zip(keys, rows, outcomes, strict=True)):
            if outcome == "started" and (key in seen or first_row[key] not in applied):
                outcome = "already"  # reported meanwhile by a concurrent request
            seen.add(key)
            result.append(LearningRow(index, ce_number, course_code, outcome))
        return result

    # -- reading -----------------------------------------------------------------------------------

    @staticmethod
    def can_read_selection(principal: Principal, selection: Doc) -> bool:
        if covers(
            principal,
            ce_number=selection.get("ce_number"),
            school_id=selection.get("school_id"),
            district=selection.get("district"),
            city_roles=RESULT_CITY_ROLES,
        ):
            return True
        return bool(
            principal.has_role(Role.INSTITUTION)
            and selection.get("institution_id")
            and principal.scopes.get("institution_id") == selection.get("institution_id")
        )

    async def teacher_results(self, principal: Principal, ce_number: str) -> list[Doc]:
        """学习结果: the teacher's selections with their results, newest term first."""
        teacher = await self.repo.teacher(ce_number)
        if teacher is None or not can_read_teacher(principal, teacher):
            raise NotFound(f"Teacher {ce_number} not found.", code="teacher_not_found", title="教师不存在")
        docs = await self.repo.selections_of({"ce_number": ce_number, "status": "active"})
        return sorted(docs, key=lambda d: (str(d["term"]), str(d["course_code"])), reverse=True)

    async def certificate(self, principal: Principal, selection_id: str) -> tuple[Doc, bytes]:
        selection = await self.repo.selection(selection_id)
        if selection is None or not self.can_read_selection(principal, selection):
            raise NotFound(f"Selection {selection_id} not found.", code="selection_not_found", title="选课记录不存在")
        refusal = rules.certificate_refusal(selection)
        if refusal:
            raise refusal_error(refusal, f"No certificate: {refusal}.")
        term = await self._term(selection["term"])
        school = await self.repo.school(str(selection.get("school_id"))) or {}
        registered = as_utc(
            (selection.get("result_detail") or {}).get("registered_at") or selection.get("result_registered_at")
        )
        hours = float(selection.get("hours") or 0)
        cert = ResultCertificate(
            certificate_number=f"{selection['term']}-{selection_id[:12].upper()}",
            name=str(selection.get("name") or ""),
            ce_number=selection["ce_number"],
            school_name=str(selection.get("school_name") or school.get("name") or ""),
            term=selection["term"],
            year=term_year(term),
            course_code=selection["course_code"],
            course_name=str(selection.get("course_name") or ""),
            hour_type_label=HOUR_TYPE_LABELS.get(str(selection.get("hour_type")), str(selection.get("hour_type"))),
            hours=f"{hours:g}",
            registered_on=registered.astimezone(CHINA).strftime("%Y-%m-%d") if registered else "",
        )
        return selection, result_certificate_pdf(cert)

    async def term_results(
        self, principal: Principal, term: str, *, school_id: str | None, course_code: str | None, result: str | None
    ) -> list[Doc]:
        """学员成绩查询: the term's selections and their results within the caller's scope (earlier years
        stay readable; only registration is limited to the current year)."""
        await self._term(term)
        query: Doc = {"term": term, "status": "active"}
        if course_code:
            query["course_code"] = course_code
        if result:
            query["result"] = None if result == "none" else result
        scope = admin_scope(principal, school_id)
        if scope is not None:
            query.update(scope)
        elif principal.has_role(Role.INSTITUTION) and principal.scopes.get("institution_id"):
            codes = [
                c["code"]
                for c in await self.repo.courses_of(
                    {"term": term, "institution_id": principal.scopes["institution_id"]}
                )
            ]
            if course_code and course_code not in codes:
                return []
            query.setdefault("course_code", {"$in": codes})
        else:
            raise Forbidden("Not allowed to see results.", code="forbidden", title="无权查看成绩")
        docs = await self.repo.selections_of(query)
        return sorted(docs, key=lambda d: (str(d.get("school_id")), str(d["ce_number"]), str(d["course_code"])))

    async def course_stats(
        self, principal: Principal, term: str, *, programme: str | None, school_id: str | None
    ) -> list[rules.CoursePassStats]:
        """课程通过率统计: per course passed / not passed / total / pass rate, within the caller's scope."""
        await self._term(term)
        query: Doc = {"term": term, "status": "active"}
        course_query: Doc = {"term": term}
        if programme:
            query["programme"] = programme
            course_query["programme"] = programme
        include_unselected = True
        scope = admin_scope(principal, school_id, narrow_district=False)
        if scope is not None:
            query.update(scope)
            include_unselected = not scope  # the whole city: courses nobody selected count too
        elif principal.has_role(Role.INSTITUTION) and principal.scopes.get("institution_id"):
            course_query["institution_id"] = principal.scopes["institution_id"]
            codes = [c["code"] for c in await self.repo.courses_of(course_query)]
            query["course_code"] = {"$in": codes}
        else:
            raise Forbidden("Not allowed to see course statistics.", code="forbidden", title="无权查看课程统计")
        projection = {"course_code": 1, "course_name": 1, "status": 1, "result": 1}
        selections = await self.repo.selections_of(query, projection)
        courses = await self.repo.courses_of(course_query) if include_unselected else []
        return rules.course_pass_stats(selections, courses)
