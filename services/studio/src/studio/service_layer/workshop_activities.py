"""Workshop activities (研修活动) with ordered segments, assignments (研修作业) and their recommendation.

One implementation of activities: a workshop's activity is a document of the studio's activity
collection, checked by the same domain rules (``studio.domain.activities``), stored by the same
repositories, with ``owner_kind: "workshop"`` and the workshop's id where a studio's activity has its
studio's. Points: each segment the host creates earns ``activity_segment_created`` (in the insert of the
activity); a recommendation earns the assignment's author ``assignment_recommended`` (in the write that
records it); the summary organises the activity and, with more than ten participants and outputs, earns
each participant ``activity_participation`` (in the organising write); an organised activity with
participants is a real activity of the workshop (active-workshop rule)."""

from __future__ import annotations

import uuid
from typing import Any

from jijiao_kit.auth import Principal
from jijiao_kit.timeutil import epoch_ms
from studio.adapters.activities import ActivityRepository, ParticipationRepository
from studio.adapters.community_files import clean_html
from studio.domain import activities as activity_rules
from studio.domain import community as rules
from studio.domain.community import WorkshopStatus
from studio.domain.problems import problem as studio_problem
from studio.service_layer.community import CommunityService, problem, teacher_ce

Doc = dict[str, Any]
ASSIGNMENT = "assignment"


def _id() -> str:
    return uuid.uuid4().hex[:12]


class WorkshopActivityService:
    def __init__(
        self, community: CommunityService, activities: ActivityRepository, parts: ParticipationRepository
    ) -> None:
        self.community = community
        self.activities = activities
        self.parts = parts

    def _now(self) -> int:
        return epoch_ms(self.community.clock.now())

    async def _as_host(self, principal: Principal, workshop_id: str) -> Doc:
        ce = teacher_ce(principal)
        workshop = await self.community.workshops.get(workshop_id)
        if workshop is None or not self.community._sees_workshop(principal, workshop):
            raise problem("workshop_not_found", f"Workshop {workshop_id} not found.")
        if workshop["host_ce_number"] != ce:
            raise problem("not_workshop_host", "Only the workshop's host does this.")
        if workshop["status"] != WorkshopStatus.APPROVED or workshop.get("hidden"):
            raise problem("workshop_not_approved", "The workshop is not approved.")
        return workshop

    async def _as_participant(self, principal: Principal, workshop_id: str, activity_id: str) -> tuple[Doc, Doc]:
        ce = teacher_ce(principal)
        workshop = await self.community.workshops.get(workshop_id)
        if workshop is None or not self.community._sees_workshop(principal, workshop):
            raise problem("workshop_not_found", f"Workshop {workshop_id} not found.")
        activity = await self.activities.get(workshop_id, activity_id)
        if activity is None or activity.get("owner_kind") != "workshop":
            raise problem("activity_not_found", f"Activity {activity_id} not found.")
        if ce not in (workshop.get("participants") or {}):
            raise problem("not_joined", "Join the workshop first.")
        return workshop, activity

    async def create(self, principal: Principal, workshop_id: str, body: Doc) -> Doc:
        """The host creates an (online) activity with ordered segments: each segment earns once."""
        workshop = await self._as_host(principal, workshop_id)
        segments = [{**seg, "id": _id()} for seg in body.get("segments") or []]
        doc = {**body, "segments": segments, "options": body.get("options") or {}}
        if errors := activity_rules.activity_problems(doc):
            raise studio_problem("invalid_activity", "; ".join(errors))
        doc |= {
            "_id": _id(),
            "studio_id": workshop_id,
            "owner_kind": "workshop",
            "stage_id": None,
            "status": "published",
            "organised": False,
            "summary": None,
            "recommendations": {},
            "revision": 0,
            "order": await self.activities.count({"studio_id": workshop_id}),
            "created_ms": self._now(),
        }
        facts = rules.segment_facts(workshop["host_ce_number"], segments)
        entries = self.community._entries(facts, principal, title=doc.get("title"), workshop=workshop)
        await self.activities.add(doc, entries)
        return doc

    async def add_segment(self, principal: Principal, workshop_id: str, activity_id: str, segment: Doc) -> Doc:
        """The host adds a segment to an activity of their workshop: it earns once, in the same write
        (compare-and-set on the activity's ``revision``, the segments written whole)."""
        workshop = await self._as_host(principal, workshop_id)
        for _ in range(50):
            activity = await self.activities.get(workshop_id, activity_id)
            if activity is None or activity.get("owner_kind") != "workshop":
                raise problem("activity_not_found", f"Activity {activity_id} not found.")
            if activity.get("organised"):
                raise studio_problem("activity_not_editable", "An organised activity cannot be changed.")
            new = {**segment, "id": _id()}
            segments = [*activity["segments"], new]
            if errors := activity_rules.activity_problems({**activity, "segments": segments}):
                raise studio_problem("invalid_activity", "; ".join(errors))
            facts = rules.segment_facts(workshop["host_ce_number"], [new])
            entries = self.community._entries(facts, principal, title=activity.get("title"), workshop=workshop)
            expect = {"organised": False, "revision": int(activity.get("revision", 0))}
            if await self.activities.add_event(workshop_id, activity_id, {"segments": segments}, entries, expect):
                return new
        raise problem("busy", "Too many simultaneous changes of this activity; retry.")

    async def listing(self, principal: Principal, workshop_id: str) -> list[Doc]:
        await self.community.workshop(principal, workshop_id)
        return await self.activities.of_studio(workshop_id, published_only=True)

    async def do_part(self, principal: Principal, workshop_id: str, activity_id: str, part: str) -> Doc:
        """A participant did a segment (read, watched, discussed)."""
        _, activity = await self._as_participant(principal, workshop_id, activity_id)
        if not activity_rules.is_part(activity, part):
            raise problem("activity_not_found", f"{part} is not a segment of this activity.")
        await self.parts.record(activity_id, principal.ce_number or "", part, self._now())
        return {"activity_id": activity_id, "part": part, "done": True}

    async def hand_in(self, principal: Principal, workshop_id: str, activity_id: str, text: str) -> Doc:
        """研修作业: one per participant and activity (its id makes it once under any burst)."""
        _, activity = await self._as_participant(principal, workshop_id, activity_id)
        if activity.get("organised"):
            raise problem("activity_not_found", "The activity is organised already.")
        ce = principal.ce_number or ""
        if not await self.parts.record(activity_id, ce, ASSIGNMENT, self._now(), {"text": clean_html(text)}):
            raise problem("already_handed_in", "You handed in this activity's assignment already.")
        return {"id": f"{activity_id}:{ce}:{ASSIGNMENT}", "activity_id": activity_id, "ce_number": ce}

    async def assignments(self, principal: Principal, workshop_id: str, activity_id: str) -> list[Doc]:
        await self._as_host(principal, workshop_id)
        return [{**d, "id": d["_id"]} for d in await self.parts.of_part(activity_id, ASSIGNMENT)]

    async def recommend(self, principal: Principal, workshop_id: str, activity_id: str, author: str) -> Doc:
        """推优: every recommendation earns the author 20 once (its own id in the reference)."""
        workshop = await self._as_host(principal, workshop_id)
        activity = await self.activities.get(workshop_id, activity_id)
        if activity is None or activity.get("owner_kind") != "workshop":
            raise problem("activity_not_found", f"Activity {activity_id} not found.")
        assignment_id = f"{activity_id}:{author}:{ASSIGNMENT}"
        handed = {d["ce_number"] for d in await self.parts.of_part(activity_id, ASSIGNMENT)}
        if author not in handed:
            raise problem("assignment_not_found", f"No assignment of {author} in this activity.")
        recommendation_id = _id()
        fact = rules.recommendation_fact(author, assignment_id, recommendation_id)
        entries = self.community._entries([fact], principal, title=activity.get("title"), workshop=workshop)
        record = {"assignment_id": assignment_id, "ce_number": author, "at_ms": self._now()}
        await self.activities.add_event(
            workshop_id, activity_id, {f"recommendations.{recommendation_id}": record}, entries
        )
        return {"id": recommendation_id, **record}

    async def organise(self, principal: Principal, workshop_id: str, activity_id: str, text: str) -> Doc:
        """The summary organises the activity; participation points go out in the same write."""
        workshop = await self._as_host(principal, workshop_id)
        activity = await self.activities.get(workshop_id, activity_id)
        if activity is None or activity.get("owner_kind") != "workshop":
            raise problem("activity_not_found", f"Activity {activity_id} not found.")
        done = await self.parts.done_by(activity_id)
        participants = {ce for ce in done if ce != workshop["host_ce_number"]}
        outputs = sum(1 for parts in done.values() if ASSIGNMENT in parts)
        facts = rules.participation_facts(activity_id, participants, outputs)
        entries = self.community._entries(facts, principal, title=activity.get("title"), workshop=workshop)
        fields = {"summary": {"text": text, "at_ms": self._now(), "by": principal.ce_number}}
        if not await self.activities.organise(workshop_id, activity_id, fields, entries):
            raise studio_problem("summary_exists", "The summary was written already.")
        if participants:
            await self.community.count_real_activity(principal, workshop_id)
        return {**activity, **fields, "organised": True, "participants": len(participants), "outputs": outputs}
