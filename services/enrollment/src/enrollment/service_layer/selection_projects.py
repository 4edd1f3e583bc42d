"""Special projects (专项培训): application -> school -> district -> institution review -> admitted.
Admission places the selection (capacity counter, unique active key, SelectionMade) before the
application is marked admitted; if the application moved meanwhile, the selection is cancelled
again, so an admitted application and its selection exist together or not at all."""

from __future__ import annotations

from typing import Any

from enrollment.adapters.selection_projects_repository import ApplicationRepository
from enrollment.domain.selection import Actor, teacher_refusal
from enrollment.domain.selection_projects import Reviewer, decision_refusal, next_status
from enrollment.domain.terms import window_open
from enrollment.service_layer.selection import SelectionService, problem
from jijiao_contracts.enums import Role
from jijiao_kit.access import ADMIN_LEVELS, Level, covers, scope_filter
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.errors import AppError, Conflict, Forbidden, NotFound

Doc = dict[str, Any]

PROBLEMS: dict[str, tuple[int, str, str]] = {
    "not_a_special_project": (409, "该课程不是专项培训项目", "Applications are for special-project courses."),
    "already_applied": (409, "您已报名该专项培训", "The teacher already applied for this project."),
    "application_decided": (409, "该报名已审核完毕", "The application is already decided."),
    "not_your_review_step": (403, "当前审核环节不由您负责", "This review step belongs to another reviewer."),
}


def project_problem(code: str) -> AppError:
    if code not in PROBLEMS:
        return problem(code)
    status, title, detail = PROBLEMS[code]
    return AppError(detail, code=code, title=title, status=status)


def reviewers_of(principal: Principal, application: Doc) -> set[Reviewer]:
    roles: set[Reviewer] = set()
    school, district = application.get("school_id"), application.get("district")
    if covers(principal, levels=frozenset({Level.CITY})):
        roles |= {Reviewer.SCHOOL, Reviewer.DISTRICT}
    if covers(principal, school_id=school, levels=frozenset({Level.SCHOOL})):
        roles.add(Reviewer.SCHOOL)
    if covers(principal, district=district, levels=frozenset({Level.DISTRICT})):
        roles.add(Reviewer.DISTRICT)
    institution = principal.scopes.get("institution_id")
    if principal.has_role(Role.INSTITUTION) and institution and institution == application.get("institution_id"):
        roles.add(Reviewer.INSTITUTION)
    return roles


class ProjectService:
    def __init__(self, repo: ApplicationRepository, selection: SelectionService, clock: Clock) -> None:
        self.repo = repo
        self.selection = selection
        self.clock = clock

    async def apply(self, principal: Principal, term_code: str, course_code: str) -> Doc:
        """网上报名 by the teacher, inside the term's window."""
        ce_number = principal.ce_number
        if not principal.has_role(Role.TEACHER) or not ce_number:
            raise Forbidden(
                "Teachers apply for special projects themselves.", code="apply_forbidden", title="请教师本人报名"
            )
        term = await self.selection.terms.get_term(term_code)
        teacher = await self.selection.teachers.get(ce_number)
        if teacher is None:
            raise problem("teacher_not_found")
        course = await self.selection.courses.by_code(term_code, course_code)
        if course is None:
            raise problem("course_not_found")
        refusal = (
            ("window_closed" if not window_open(term, self.clock.now()) else None)
            or teacher_refusal(teacher)
            or ("not_a_special_project" if course.get("programme") != "special" else None)
        )
        if refusal:
            raise project_problem(refusal)
        application = {
            "_id": f"{term_code}:{course_code}:{ce_number}",
            "term": term_code,
            "course_code": course_code,
            "course_name": course["name"],
            "institution_id": course.get("institution_id"),
            "ce_number": ce_number,
            "name": teacher.get("name"),
            "school_id": teacher.get("school_id"),
            "district": teacher.get("district"),
            "status": "applied",
            "applied_at": self.clock.now(),
            "reviews": {},
            "selection_id": None,
        }
        if not await self.repo.add_once(application):
            raise project_problem("already_applied")
        return application

    async def _visible(self, principal: Principal, application_id: str) -> Doc:
        doc = await self.repo.get(application_id)
        if doc is None or not (
            reviewers_of(principal, doc)
            or covers(principal, ce_number=doc["ce_number"], levels=frozenset({Level.SELF}))
        ):
            raise NotFound("No such application.", code="application_not_found", title="报名记录不存在")
        return doc

    async def decide(self, principal: Principal, application_id: str, approve: bool, reason: str | None) -> Doc:
        doc = await self._visible(principal, application_id)
        status = doc["status"]
        refusal = decision_refusal(status, reviewers_of(principal, doc))
        if refusal:
            raise project_problem(refusal)
        new = next_status(status, approve)
        review = {"by": principal.subject, "approve": approve, "reason": reason, "at": self.clock.now()}
        fields: Doc = {"status": new, f"reviews.{status}": review}
        placed: Doc | None = None
        if new == "admitted":
            teacher = await self.selection.teachers.get(doc["ce_number"])
            course = await self.selection.courses.by_code(doc["term"], doc["course_code"])
            if teacher is None or course is None:
                raise problem("teacher_not_found" if teacher is None else "course_not_found")
            blocked = teacher_refusal(teacher)
            if blocked:
                raise problem(blocked)
            placed = await self.selection.place(
                principal, doc["term"], teacher, course, actor=Actor.INSTITUTION, via="special_project"
            )
            fields["selection_id"] = placed["_id"]
        if not await self.repo.move(application_id, status, fields):
            if placed is not None:
                await self.selection.cancel(principal, placed, actor=Actor.SYSTEM)
            raise Conflict(
                "The application was decided meanwhile.", code="application_decided", title="该报名已审核完毕"
            )
        return await self._visible(principal, application_id)

    async def list(self, principal: Principal, term_code: str, status: str | None) -> list[Doc]:
        query: Doc = {"term": term_code}
        if status:
            query["status"] = status
        admin = scope_filter(principal, levels=ADMIN_LEVELS)
        own = scope_filter(principal, levels=frozenset({Level.SELF}))
        if admin is not None:
            query.update(admin)
        elif principal.has_role(Role.INSTITUTION) and principal.scopes.get("institution_id"):
            query["institution_id"] = principal.scopes["institution_id"]
        elif own is not None:
            query.update(own)
        else:
            raise Forbidden("No applications in your scope.", code="applications_forbidden", title="无权查看报名")
        return await self.repo.find_many(query)
