"""The people the term report counts (培训者情况分析): workshop hosts the centre assigns to the research
courses' workshops (研修主持人), research assistants the districts select (研修助理: one per school and
subject, or recommended by a host) and their assigned work, and the supervisors' (督学) recommendations of
excellent hosts, assistants, resources, schools and class briefs.

One assistant per school and subject is the ``_id`` of the assistant document (the store decides under
races); work completed moves in one conditional write per task. The school's district comes from the
teacher directory (the district an admin selects for must be the school's own), and a host recommends only
as the host of an approved, visible workshop. A workshop the centre assigns is
approved at once and earns no founding points (the annex pays 创立, founding on application)."""

from __future__ import annotations

import uuid
from typing import Any

from jijiao_contracts.enums import Role
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.timeutil import epoch_ms
from studio.adapters.community import AssistantRepository, RecommendationRepository
from studio.adapters.directory import TeacherDirectory
from studio.domain import community as rules
from studio.domain.community import PROBLEMS, WorkshopStatus
from studio.service_layer.community import CommunityService, is_centre, problem

Doc = dict[str, Any]
#: Who supervises (督学): the research office's experts, or the centre.
SUPERVISOR_ROLES = (Role.RESEARCH_OFFICE, Role.REMOTE_CENTRE, Role.CITY_ADMIN)
RECOMMENDABLE = frozenset({"host", "assistant", "resource", "school", "class_brief"})

PROBLEMS.update(
    {
        "assistant_exists": (409, "该学校该学科已配置研修助理"),
        "assistant_not_found": (404, "研修助理不存在"),
        "not_district_admin": (403, "只有区管理员或坊主可以配置研修助理"),
        "school_not_found": (404, "学校不存在"),
        "not_supervisor": (403, "只有督学可以推荐"),
        "invalid_recommendation": (422, "推荐对象类型有误"),
        "task_done": (409, "该任务已完成"),
    }
)


class CommunityPeople:
    def __init__(
        self,
        assistants: AssistantRepository,
        recommendations: RecommendationRepository,
        community: CommunityService,
        clock: Clock,
        directory: TeacherDirectory,
    ) -> None:
        self.assistants = assistants
        self.recommendations = recommendations
        self.community = community
        self.clock = clock
        self.directory = directory

    def _now(self) -> int:
        return epoch_ms(self.clock.now())

    async def assign_workshop(
        self, principal: Principal, *, name: str, host_ce_number: str, course_code: str, subject: str | None
    ) -> Doc:
        """The centre opens a research course's workshop with its host (研修主持人): approved at once."""
        if not is_centre(principal):
            raise problem("workshop_not_found", "Only the centre assigns hosts.")
        wid = uuid.uuid4().hex[:12]
        doc: Doc = {
            "_id": wid,
            "name": name,
            "description": "",
            "subject": subject,
            "stage": None,
            "course_code": course_code,
            "assigned": True,
            "host_ce_number": host_ce_number,
            "status": WorkshopStatus.APPROVED.value,
            "reason": None,
            "participants": {host_ce_number: self._now()},
            "participant_count": 1,
            "real_activities": 0,
            "featured": False,
            "active": False,
            "hidden": False,
            "version": 0,
            "created_ms": self._now(),
        }
        await self.community.workshops.add(doc)
        return await self.community.workshop(principal, wid)

    async def select_assistant(
        self,
        principal: Principal,
        *,
        ce_number: str,
        school_id: str,
        subject: str,
        workshop_id: str | None = None,
    ) -> Doc:
        """A district admin selects (for a school of their district), or the host of an approved, visible
        workshop recommends, the research assistant of a school and subject: one per school and subject.
        The school's district is the directory's; a school outside the admin's district is not found."""
        admin = principal.has_role(Role.DISTRICT_ADMIN) and bool(principal.district)
        recommended_by = None if admin else await self._recommending_host(principal, workshop_id)
        district = await self.directory.district_of_school(school_id)
        if district is None or (admin and district != principal.district):
            raise problem("school_not_found", f"School {school_id} not found.")
        doc: Doc = {
            "_id": f"{school_id}:{subject}",
            "ce_number": ce_number,
            "school_id": school_id,
            "subject": subject,
            "district": district,
            "workshop_id": workshop_id,
            "recommended_by": recommended_by,
            "tasks": {},
            "assigned": 0,
            "completed": 0,
            "created_ms": self._now(),
        }
        if not await self.assistants.add(doc):
            raise problem("assistant_exists", f"School {school_id} has a {subject} assistant already.")
        return doc

    async def _recommending_host(self, principal: Principal, workshop_id: str | None) -> str:
        """The caller hosts ``workshop_id``, approved and visible (a pending or refused founding, or a
        hidden workshop, makes no one a host who recommends assistants)."""
        workshop = await self.community.workshops.get(workshop_id) if workshop_id and principal.ce_number else None
        if (
            workshop is None
            or workshop["host_ce_number"] != principal.ce_number
            or workshop["status"] != WorkshopStatus.APPROVED
            or workshop.get("hidden")
        ):
            raise problem("not_district_admin", "Only a district admin or the host of an approved workshop selects.")
        return str(principal.ce_number)

    async def assign_task(self, principal: Principal, assistant_id: str, title: str) -> Doc:
        doc = await self._assistant_for_admin(principal, assistant_id)
        task_id = uuid.uuid4().hex[:12]
        await self.assistants.add_task(doc["_id"], task_id, title)
        return {"id": task_id, "title": title, "done": False}

    async def complete_task(self, principal: Principal, assistant_id: str, task_id: str) -> None:
        """The assistant completes an assigned task, once (the filter on ``done``)."""
        doc = await self.assistants.get(assistant_id)
        if doc is None or doc["ce_number"] != principal.ce_number or task_id not in (doc.get("tasks") or {}):
            raise problem("assistant_not_found", f"Assistant task {task_id} not found.")
        if not await self.assistants.complete_task(assistant_id, task_id):
            raise problem("task_done", "The task is done already.")

    async def _assistant_for_admin(self, principal: Principal, assistant_id: str) -> Doc:
        doc = await self.assistants.get(assistant_id)
        allowed = doc is not None and (
            is_centre(principal)
            or (principal.has_role(Role.DISTRICT_ADMIN) and principal.district == doc.get("district"))
        )
        if not allowed or doc is None:
            raise problem("assistant_not_found", f"Assistant {assistant_id} not found.")
        return doc

    async def assistant_statistics(self, principal: Principal) -> list[Doc]:
        """表10: per district and 合计, assistants configured, those who completed their work and the
        completion rate (完成工作数 / 配置助理数)."""
        query: Doc = {}
        if not is_centre(principal):
            if not (principal.has_role(Role.DISTRICT_ADMIN) and principal.district):
                raise problem("not_district_admin", "Admins see the assistants' statistics.")
            query = {"district": principal.district}
        return rules.assistant_rows(await self.assistants.counts(query))

    async def recommend(self, principal: Principal, kind: str, target: str, reason: str) -> Doc:
        """A supervisor (督学) recommends an excellent host, assistant, resource, school or class brief."""
        if not principal.has_role(*SUPERVISOR_ROLES):
            raise problem("not_supervisor", "Only supervisors recommend.")
        if kind not in RECOMMENDABLE:
            raise problem("invalid_recommendation", f"kind is one of {sorted(RECOMMENDABLE)}.")
        doc = {
            "_id": uuid.uuid4().hex[:12],
            "kind": kind,
            "target": target,
            "reason": reason,
            "by": principal.subject,
            "created_ms": self._now(),
        }
        await self.recommendations.add(doc)
        return doc

    async def list_recommendations(self, principal: Principal, kind: str | None = None) -> list[Doc]:
        if not (is_centre(principal) or principal.has_role(*SUPERVISOR_ROLES)):
            raise problem("not_supervisor", "Only supervisors and the centre see recommendations.")
        query: Doc = {"kind": kind} if kind else {}
        return await self.recommendations.listing(query)
