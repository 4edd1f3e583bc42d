"""Workshop activities (研修活动) with ordered segments, assignments (研修作业), their grades and their
recommendation.

One implementation of activities: a workshop's activity is an activity of the studio's activity service
(``studio.service_layer.activities.ActivityService``: ``new_activity``, ``owned``, ``append_segment``,
``record_part``, ``organise``), stored by the same repositories with ``owner_kind: "workshop"`` and the
workshop's id where a studio's activity has its studio's. What this module adds is the workshop's part,
a thin layer: who may (the workshop's host builds and organises, its participants take part, the centre
reads and grades), the points facts, assignments, and real-activity counting. Points: each segment the
host creates earns ``activity_segment_created`` (in the insert of the activity, or in the write that adds
the segment); a recommendation earns the assignment's author ``assignment_recommended`` (in the write that
records it, once per assignment); the summary organises the activity (after it ended) and, with ten or more
participants other than the host and outputs, earns each participant ``activity_participation`` (in the
organising write); an organised activity with participants is a real activity of the workshop
(active-workshop rule), counted once per activity: the workshop notes the activity's id in the write that
counts it (``real.<activity id>``), and the organising write leaves ``real_pending_ms`` on the activity until
that count is confirmed, so the worker's repair counts an activity whose second write was lost.

Grades (研修作业合格): the host or the centre grades a handed-in assignment 合格 or 不合格; the grade can be
changed, the last one wins (no points ride on it: the annex has no rule for it). Ungraded counts as not
passed in the term report (表4 通过人数, 表12/表13 合格数)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from jijiao_contracts.enums import Role
from jijiao_kit.auth import Principal
from jijiao_kit.timeutil import epoch_ms
from studio.adapters.activities import ParticipationRepository
from studio.adapters.community_files import clean_html
from studio.adapters.mongo import ACTIVITIES, DIRECTORY, PARTS
from studio.domain import community as rules
from studio.domain.community import WorkshopStatus
from studio.service_layer.activities import ActivityService
from studio.service_layer.community import CommunityService, is_centre, problem, teacher_ce

Doc = dict[str, Any]
WORKSHOP = "workshop"
ASSIGNMENT = "assignment"
#: The worker's repair leaves an activity organised less than this long ago to the request counting it.
REAL_ACTIVITY_GRACE_MS = 60_000
#: Who the repair's facts name as their actor.
WORKER = Principal(subject="studio.worker", roles=frozenset())
ATTEMPTS = 500


def _id() -> str:
    return uuid.uuid4().hex[:12]


def _recommended(activity: Doc) -> set[str]:
    """The ids of the activity's recommended assignments (the values name them: also recommendations kept
    under an id of their own from before they were keyed by the assignment)."""
    return {str(r.get("assignment_id")) for r in (activity.get("recommendations") or {}).values()}


def assignment_id(activity_id: str, ce_number: str) -> str:
    """An assignment's id: one per participant and activity (the participation record's ``_id``)."""
    return f"{activity_id}:{ce_number}:{ASSIGNMENT}"


class WorkshopActivityService:
    def __init__(self, community: CommunityService, activities: ActivityService) -> None:
        self.community = community
        #: The studio's activity service (the one implementation) and its repository.
        self.activities = activities
        self.repository = activities.activities

    @property
    def parts(self) -> ParticipationRepository:
        return self.activities.parts

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

    async def _as_host_or_centre(self, principal: Principal, workshop_id: str) -> Doc:
        if is_centre(principal):
            return await self.community._load_workshop(principal, workshop_id)
        return await self._as_host(principal, workshop_id)

    async def _as_participant(self, principal: Principal, workshop_id: str, activity_id: str) -> tuple[Doc, Doc]:
        ce = teacher_ce(principal)
        workshop = await self.community.workshops.get(workshop_id)
        if workshop is None or not self.community._sees_workshop(principal, workshop):
            raise problem("workshop_not_found", f"Workshop {workshop_id} not found.")
        activity = await self.activities.owned(WORKSHOP, workshop_id, activity_id)
        if ce not in (workshop.get("participants") or {}):
            raise problem("not_joined", "Join the workshop first.")
        return workshop, activity

    async def create(self, principal: Principal, workshop_id: str, body: Doc) -> Doc:
        """The host creates an (online) activity with ordered segments, published at once: each segment
        earns once, in the insert."""
        workshop = await self._as_host(principal, workshop_id)
        doc = await self.activities.new_activity(WORKSHOP, workshop_id, body, status="published")
        facts = rules.segment_facts(workshop["host_ce_number"], doc["segments"])
        entries = self.community._entries(facts, principal, title=doc.get("title"), workshop=workshop)
        await self.repository.add(doc, entries)
        return doc

    async def add_segment(self, principal: Principal, workshop_id: str, activity_id: str, segment: Doc) -> Doc:
        """The host adds a segment to an activity of their workshop: it earns once, in the same write."""
        workshop = await self._as_host(principal, workshop_id)

        def entries_of(activity: Doc, new: Doc) -> list[Doc]:
            facts = rules.segment_facts(workshop["host_ce_number"], [new])
            return self.community._entries(facts, principal, title=activity.get("title"), workshop=workshop)

        return await self.activities.append_segment(WORKSHOP, workshop_id, activity_id, segment, entries_of)

    async def listing(self, principal: Principal, workshop_id: str) -> list[Doc]:
        await self.community.workshop(principal, workshop_id)
        return await self.repository.of_studio(workshop_id, published_only=True)

    async def do_part(self, principal: Principal, workshop_id: str, activity_id: str, part: str) -> Doc:
        """A participant did a segment (read, watched, discussed)."""
        _, activity = await self._as_participant(principal, workshop_id, activity_id)
        await self.activities.record_part(activity, principal.ce_number or "", part)
        return {"activity_id": activity_id, "part": part, "done": True}

    async def hand_in(self, principal: Principal, workshop_id: str, activity_id: str, text: str) -> Doc:
        """研修作业: one per participant and activity (its id makes it once under any burst); the host hands
        in none in their own workshop (they recommend them)."""
        workshop, activity = await self._as_participant(principal, workshop_id, activity_id)
        ce = principal.ce_number or ""
        if ce == workshop["host_ce_number"]:
            raise problem("host_cannot_hand_in", "The host does not hand in assignments in their own workshop.")
        if activity.get("organised"):
            raise problem("activity_not_found", "The activity is organised already.")
        if not await self.parts.record(activity_id, ce, ASSIGNMENT, self._now(), {"text": clean_html(text)}):
            raise problem("already_handed_in", "You handed in this activity's assignment already.")
        return {"id": assignment_id(activity_id, ce), "activity_id": activity_id, "ce_number": ce}

    async def assignments(self, principal: Principal, workshop_id: str, activity_id: str) -> list[Doc]:
        """The assignments handed in to an activity, with whether each is recommended and its grade
        (``passed``: None while ungraded): its workshop's host and the centre."""
        await self._as_host_or_centre(principal, workshop_id)
        activity = await self.activities.owned(WORKSHOP, workshop_id, activity_id)
        recommended = _recommended(activity)
        return [
            {
                "id": d["_id"],
                "activity_id": activity_id,
                "ce_number": d["ce_number"],
                "text": d.get("text", ""),
                "at_ms": d["at_ms"],
                "recommended": d["_id"] in recommended,
                "passed": None if d.get("passed") is None else bool(d["passed"]),
                "graded_ms": d.get("graded_ms"),
            }
            for d in await self.parts.of_part(activity_id, ASSIGNMENT)
        ]

    async def grade(
        self, principal: Principal, workshop_id: str, activity_id: str, assignment: str, passed: bool
    ) -> Doc:
        """研修作业合格: the workshop's host or the centre grades a handed-in assignment 合格 (``passed``) or
        不合格; a later grade replaces it (the last one wins), also after the activity is organised."""
        await self._as_host_or_centre(principal, workshop_id)
        await self.activities.owned(WORKSHOP, workshop_id, activity_id)
        prefix, _, ce = assignment.removesuffix(f":{ASSIGNMENT}").partition(":")
        if prefix != activity_id or not ce or assignment != assignment_id(activity_id, ce):
            raise problem("assignment_not_found", f"No assignment {assignment} in this activity.")
        at = self._now()
        if not await self.parts.grade(assignment, passed, at, principal.subject):
            raise problem("assignment_not_found", f"No assignment {assignment} in this activity.")
        return {"id": assignment, "activity_id": activity_id, "ce_number": ce, "passed": passed, "graded_ms": at}

    async def recommend(self, principal: Principal, workshop_id: str, activity_id: str, author: str) -> Doc:
        """推优: the host recommends an assignment of another teacher; it earns its author 20 once. The
        assignment's id is the fact's reference and the key of the recommendation, written only while the
        activity has none for it (conditional write: simultaneous recommendations give one)."""
        workshop = await self._as_host(principal, workshop_id)
        activity = await self.activities.owned(WORKSHOP, workshop_id, activity_id)
        if author == workshop["host_ce_number"]:
            raise problem("own_assignment", "The host does not recommend their own assignment.")
        assignment = await self.parts.get(activity_id, author, ASSIGNMENT)
        if assignment is None:
            raise problem("assignment_not_found", f"No assignment of {author} in this activity.")
        recommended_id = str(assignment["_id"])
        if recommended_id in _recommended(activity):
            raise problem("already_recommended", "This assignment is recommended already.")
        fact = rules.recommendation_fact(author, recommended_id)
        entries = self.community._entries([fact], principal, title=activity.get("title"), workshop=workshop)
        record = {"assignment_id": recommended_id, "ce_number": author, "at_ms": self._now()}
        key = f"recommendations.{recommended_id}"
        if not await self.repository.add_event(
            workshop_id, activity_id, {key: record}, entries, expect={key: {"$exists": False}}
        ):
            raise problem("already_recommended", "This assignment is recommended already.")
        return {"id": recommended_id, **record}

    async def organise(self, principal: Principal, workshop_id: str, activity_id: str, text: str) -> Doc:
        """The summary organises the activity once it ended (the activity service's ``organise``);
        participation points go out in the same write. With participants it is a real activity of the
        workshop: counted once, by its id (and by the worker's repair should this process stop between
        the two writes)."""
        workshop = await self._as_host(principal, workshop_id)
        activity = await self.activities.owned(WORKSHOP, workshop_id, activity_id)
        counts: Doc = {}

        async def credits(done: dict[str, set[str]]) -> tuple[list[Doc], Doc]:
            participants = {ce for ce in done if ce != workshop["host_ce_number"]}
            outputs = sum(1 for ce, parts in done.items() if ASSIGNMENT in parts and ce in participants)
            counts.update(participants=len(participants), outputs=outputs)
            facts = rules.participation_facts(activity_id, participants, outputs)
            entries = self.community._entries(facts, principal, title=activity.get("title"), workshop=workshop)
            return entries, ({"real_pending_ms": self._now()} if participants else {})

        organised = await self.activities.organise(principal, activity, text, credits)
        if counts["participants"]:
            await self.count_real_activity(principal, workshop_id, activity_id)
        return {**organised, **counts}

    async def count_real_activity(self, principal: Principal, workshop_id: str, activity_id: str) -> bool:
        """Count the organised activity as a real activity of its workshop, once by its id: ``$set`` of
        ``real.<activity id>`` with the ``$inc`` of the count, under ``$exists: False`` and the workshop's
        version (the active-workshop facts ride on the write that makes it active). True when this call
        counted it; then the activity's pending mark goes."""
        counted = False
        for _ in range(ATTEMPTS):
            doc = await self.community.workshops.get(workshop_id)
            if doc is None or activity_id in (doc.get("real") or {}):
                break
            after = {**doc, "real_activities": int(doc.get("real_activities", 0)) + 1}
            update: Doc = {"$set": {f"real.{activity_id}": self._now()}, "$inc": {"real_activities": 1}}
            facts: list[rules.Fact] = []
            if rules.becomes_active(doc, after):
                facts = rules.activity_facts(after)
                update["$set"]["active"] = True
            entries = self.community._entries(facts, principal, title=doc["name"], workshop=doc)
            extra = {f"real.{activity_id}": {"$exists": False}}
            if await self.community.workshops.write(workshop_id, doc["version"], update, entries, extra):
                counted = True
                break
            await asyncio.sleep(0)
        else:
            raise problem("busy", "Too many simultaneous changes of this workshop; retry.")
        await self.repository.clear_real_pending(activity_id)
        return counted

    async def repair_real_activities(self, grace_ms: int = REAL_ACTIVITY_GRACE_MS) -> int:
        """Crash repair, idempotent (a worker job): count the organised workshop activities whose count as a
        real activity was never confirmed (``real_pending_ms`` older than ``grace_ms``). Returns how many
        this run counted."""
        counted = 0
        for activity in await self.repository.real_pending(self._now() - grace_ms):
            counted += await self.count_real_activity(WORKER, activity["studio_id"], activity["_id"])
        return counted

    async def assignment_statistics(self, principal: Principal, by: str) -> list[Doc]:
        """表12 (by district, 总计) and 表13 (by the teacher's own subject, 合计): participants, assignments
        submitted, passed and recommended with their rates. The centre sees the city, a district admin
        their district's participants."""
        stats = self.community.stats
        if stats is None:
            raise problem("not_moderator", "The centre sees the community's statistics.")
        if is_centre(principal):
            district = None
        elif principal.has_role(Role.DISTRICT_ADMIN) and principal.district:
            district = principal.district
        else:
            raise problem("not_moderator", "The centre and district admins see the community's statistics.")
        learners = [
            rules.Learner.of(p, by)
            for p in await stats.learners(ACTIVITIES, PARTS, DIRECTORY)
            if district is None or p["district"] == district
        ]
        total = rules.SUBJECT_TOTAL if by == "subject" else rules.TOTAL
        return [row.as_dict() for row in rules.assignment_rows(learners, total)]
