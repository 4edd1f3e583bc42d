"""Studios: founding, reading, the host's workbench, changing the host, members and assistants."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from jijiao_contracts.enums import Role
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.timeutil import epoch_ms
from studio.adapters.directory import TeacherDirectory
from studio.adapters.recruitment import ApplicationRepository, RecruitmentRepository
from studio.adapters.studios import StudioRepository
from studio.domain.problems import problem
from studio.domain.recruitment import Schedule, Window
from studio.domain.studios import DEFAULT_STUDENT_CAP, StudioType, has_assistants, member_quota
from studio.service_layer import access
from studio.service_layer.access import Standing

Doc = dict[str, Any]
#: Extra counts of the workbench from other parts of the service (activities, yearly tasks).
CountHook = Callable[[Doc], Awaitable[dict[str, int]]]


@dataclass(frozen=True)
class NewStudio:
    name: str
    studio_type: StudioType
    host_ce_number: str
    cycle_start_year: int
    cycle_years: int
    stage: str | None
    subject: str | None
    student_cap: int = DEFAULT_STUDENT_CAP


def schedule_of(recruitment: Doc) -> Schedule:
    rounds = [Window(r["from_ms"], r["to_ms"]) for r in recruitment["rounds"]]
    return Schedule(Window(recruitment["apply_from_ms"], recruitment["apply_to_ms"]), (rounds[0], rounds[1], rounds[2]))


def links(studio_id: str) -> dict[str, str]:
    base = f"/v1/studios/{studio_id}"
    return {
        "self": base,
        "applications": f"{base}/applications",
        "members": f"{base}/members",
        "stages": f"{base}/stages",
        "activities": f"{base}/activities",
    }


class StudioService:
    def __init__(
        self,
        studios: StudioRepository,
        directory: TeacherDirectory,
        clock: Clock,
        applications: ApplicationRepository | None = None,
        recruitments: RecruitmentRepository | None = None,
    ) -> None:
        self.studios = studios
        self.directory = directory
        self.clock = clock
        self.applications = applications
        self.recruitments = recruitments
        self.count_hooks: list[CountHook] = []

    async def _host_fields(self, ce_number: str) -> Doc:
        host = await self.directory.get(ce_number)
        if host is None:
            raise problem("host_unknown", f"Host {ce_number} is not a registered teacher.")
        return {
            "host_ce_number": ce_number,
            "host_name": host["name"],
            "school_name": host.get("school_name"),
            "district": host.get("district"),
        }

    async def found(self, principal: Principal, new: NewStudio) -> Doc:
        access.require_city_admin(principal)
        low, high = member_quota(new.studio_type)
        studio = {
            "_id": uuid.uuid4().hex[:12],
            "name": new.name,
            "type": new.studio_type.value,
            **(await self._host_fields(new.host_ce_number)),
            "cycle_start_year": new.cycle_start_year,
            "cycle_end_year": new.cycle_start_year + new.cycle_years - 1,
            "stage": new.stage,
            "subject": new.subject,
            "member_quota": {"min": low, "max": high},
            "members": 0,
            "students": 0,
            "student_cap": new.student_cap,
            "annual_plans": 0,
            "has_assistants": has_assistants(new.studio_type),
            "created_at": self.clock.now(),
        }
        await self.studios.add(studio)
        return studio

    async def load(self, studio_id: str) -> Doc:
        studio = await self.studios.get(studio_id)
        if studio is None:
            raise access.not_found(studio_id)
        return studio

    async def membership(self, principal: Principal, studio_id: str) -> Doc | None:
        if self.applications is None:
            return None
        return await self.applications.membership(studio_id, principal.ce_number)

    async def visible(self, principal: Principal, studio_id: str) -> tuple[Doc, Standing]:
        """The studio and the caller's standing; 404 when out of scope (open studios are visible to teachers)."""
        studio = await self.load(studio_id)
        membership = await self.membership(principal, studio_id)
        open_now = await self._open_cycles()
        who = access.require_visible(
            principal, studio, membership, open_for_application=studio["cycle_start_year"] in open_now
        )
        return studio, who

    async def get(self, principal: Principal, studio_id: str) -> Doc:
        studio, who = await self.visible(principal, studio_id)
        return {**studio, "standing": who.value, "links": links(studio_id)}

    async def _open_cycles(self) -> set[int]:
        if self.recruitments is None:
            return set()
        return {r["cycle_start_year"] for r in await self.recruitments.applying_at(epoch_ms(self.clock.now()))}

    async def listing(self, principal: Principal, *, hosted_by_me: bool) -> list[Doc]:
        if hosted_by_me:
            if not (principal.has_role(Role.TEACHER) and principal.ce_number):
                return []
            return [await self._workbench_row(s) for s in await self.studios.hosted_by(principal.ce_number)]
        if principal.has_role(Role.CITY_ADMIN):
            docs = await self.studios.listing({})
        elif principal.has_role(Role.DISTRICT_ADMIN) and principal.district:
            docs = await self.studios.listing({"district": principal.district})
        elif principal.has_role(Role.TEACHER) and principal.ce_number:
            own = (
                {m["studio_id"] for m in await self.applications.memberships_of(principal.ce_number)}
                if self.applications
                else set()
            )
            hosted = {s["_id"] for s in await self.studios.hosted_by(principal.ce_number)}
            docs = await self.studios.many(sorted(own | hosted))
            open_cycles = await self._open_cycles()
            if open_cycles:
                seen = {d["_id"] for d in docs}
                docs += [
                    d
                    for d in await self.studios.listing({"cycle_start_year": {"$in": sorted(open_cycles)}})
                    if d["_id"] not in seen
                ]
        else:
            docs = []
        return [{**d, "links": links(d["_id"])} for d in docs]

    async def _workbench_row(self, studio: Doc) -> Doc:
        counts = {
            "members": studio.get("members", 0),
            "online_students": studio.get("students", 0),
            "pending_applications": await self._pending(studio),
            "published_activities": 0,
            "unfinished_yearly_tasks": 0,
        }
        for hook in self.count_hooks:
            counts.update(await hook(studio))
        return {**studio, "counts": counts, "links": links(studio["_id"])}

    async def _pending(self, studio: Doc) -> int:
        if self.recruitments is None or self.applications is None:
            return 0
        now = epoch_ms(self.clock.now())
        total = 0
        for rec in await self.recruitments.of_cycle(studio["cycle_start_year"]):
            number = schedule_of(rec).round_at(now)
            if number is not None:
                total += await self.applications.count_pending([rec["_id"]], studio["_id"], number)
        return total

    async def change_host(self, principal: Principal, studio_id: str, ce_number: str) -> Doc:
        access.require_city_admin(principal)
        await self.load(studio_id)
        await self.studios.set_host(studio_id, await self._host_fields(ce_number))
        return await self.get(principal, studio_id)

    async def members(self, principal: Principal, studio_id: str, role: str | None) -> list[Doc]:
        _, who = await self.visible(principal, studio_id)
        if who in (Standing.NONE, Standing.STUDENT):
            raise access.not_found(studio_id)
        assert self.applications is not None
        return await self.applications.members(studio_id, role)

    async def set_assistant(self, principal: Principal, studio_id: str, ce_number: str, assistant: bool) -> Doc:
        studio, _ = await self.visible(principal, studio_id)
        access.require_host(principal, studio, await self.membership(principal, studio_id))
        if not studio.get("has_assistants"):
            raise problem("no_assistants", "Only expert studios have assistants.")
        assert self.applications is not None
        if not await self.applications.set_assistant(studio_id, ce_number, assistant):
            raise problem("member_not_found", f"{ce_number} is not a member of studio {studio_id}.")
        membership = await self.applications.membership(studio_id, ce_number)
        assert membership is not None
        return membership

    async def remove_student(self, principal: Principal, studio_id: str, ce_number: str) -> None:
        studio, _ = await self.visible(principal, studio_id)
        access.require_host(principal, studio, await self.membership(principal, studio_id))
        assert self.applications is not None
        if not await self.applications.remove_student(studio_id, ce_number, epoch_ms(self.clock.now())):
            raise problem("member_not_found", f"{ce_number} is not an online student of studio {studio_id}.")
        await self.studios.release_seat(studio_id, "students")
