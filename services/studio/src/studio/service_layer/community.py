"""The research community's use cases: workshops (apply, decide, join, leave, feature), shared resources
(share, rate) and topics (create, reply, comment), moderation. Each behaviour that a points rule names
produces its PointsFactRecorded in the same single-document write that makes the rule's condition true.

Access: any teacher (with a CE number) takes part; the remote-training centre (or the city admin)
decides foundings, features workshops and moderates everything; a workshop host moderates content in
their workshop. Hidden content is not listed and earns nothing from then on (every earning write
requires ``hidden: False``, and for a workshop's resources and topics ``workshop_hidden`` unset, the flag
hiding the workshop sets on them); points already earned stay earned (the annex takes nothing back).

Community writes are rate limited per teacher (``Limits``, a 429 ``rate_limited`` with Retry-After)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jijiao_contracts import Actor
from jijiao_contracts.enums import Role
from jijiao_contracts.events.studio import PointsFactRecorded
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.errors import AppError
from jijiao_kit.outbox import outbox_entry
from jijiao_kit.ratelimit import RateLimits
from jijiao_kit.timeutil import epoch_ms
from studio.adapters.community import (
    NOT_WORKSHOP_HIDDEN,
    RESOURCES,
    TOPICS,
    CommunityStatsReader,
    ResourceRepository,
    TopicPostRepository,
    TopicRepository,
    WorkshopRepository,
)
from studio.adapters.community_files import SHARED, VIDEO, check_shared_file, clean_html
from studio.adapters.mongo import ACTIVITIES, DIRECTORY, PARTS
from studio.adapters.research_logs import LOGS
from studio.adapters.uploads import FileStore, extension
from studio.domain import community as rules
from studio.domain.community import PROBLEMS, Fact, PostKind, WorkshopStatus
from studio.domain.problems import problem as studio_problem

Doc = dict[str, Any]
ATTEMPTS = 500


def problem(code: str, detail: str) -> AppError:
    status, title = PROBLEMS[code]
    return AppError(detail, code=code, title=title, status=status)


def _id() -> str:
    return uuid.uuid4().hex[:12]


def is_centre(principal: Principal) -> bool:
    return principal.has_role(Role.REMOTE_CENTRE, Role.CITY_ADMIN)


def teacher_ce(principal: Principal) -> str:
    if not (principal.has_role(Role.TEACHER) and principal.ce_number):
        raise problem("not_teacher", "Only teachers take part in the community.")
    return principal.ce_number


@dataclass(frozen=True)
class NewWorkshop:
    name: str
    description: str
    subject: str | None = None
    stage: str | None = None


@dataclass(frozen=True)
class Limits:
    """File sizes, and the rate limits of a teacher's community writes (``limits`` strings)."""

    max_document_bytes: int = 20 * 1024 * 1024
    max_video_bytes: int = 200 * 1024 * 1024
    uploads: str = "30/hour"
    topics: str = "30/hour"
    posts: str = "120/hour"
    ratings: str = "300/hour"
    joins: str = "60/hour"


class CommunityService:
    def __init__(
        self,
        workshops: WorkshopRepository,
        resources: ResourceRepository,
        topics: TopicRepository,
        posts: TopicPostRepository,
        files: FileStore,
        clock: Clock,
        limits: Limits | None = None,
        stats: CommunityStatsReader | None = None,
        rate_limits: RateLimits | None = None,
    ) -> None:
        self.workshops = workshops
        self.resources = resources
        self.topics = topics
        self.posts = posts
        self.files = files
        self.clock = clock
        self.limits = limits or Limits()
        self.stats = stats
        self.rate_limits = rate_limits

    def _now(self) -> int:
        return epoch_ms(self.clock.now())

    async def _throttle(self, what: str, ce_number: str) -> None:
        """Count one write of ``what`` (a ``Limits`` field) by the teacher: past the limit a 429."""
        if self.rate_limits is not None:
            await self.rate_limits.hit(getattr(self.limits, what), ce_number, what=f"community_{what}")

    def upload_limit(self, filename: str) -> int:
        """The largest file of the kind the name claims (videos or documents): what an upload route reads
        at most; the content check holds the name to the content afterwards. A type not shared is a 415
        before anything is read."""
        if extension(filename) not in SHARED:
            raise studio_problem("upload_type", f"Allowed types: {sorted(SHARED)}.")
        if extension(filename) in VIDEO:
            return self.limits.max_video_bytes
        return self.limits.max_document_bytes

    def _entries(
        self, facts: Iterable[Fact], principal: Principal, *, title: str | None, workshop: Doc | None = None
    ) -> list[Doc]:
        year = rules.points_year(self.clock.now())
        actor = Actor(subject=principal.subject)
        out = []
        for fact in facts:
            event = PointsFactRecorded(
                fact_id=fact.fact_id,
                ce_number=fact.ce_number,
                rule=fact.rule.value,
                reference=fact.reference,
                year=year,
                detail=title,
                title=title,
                workshop_id=workshop["_id"] if workshop else None,
                workshop_name=workshop["name"] if workshop else None,
            )
            out.append(outbox_entry(event, producer="studio", actor=actor))
        return out

    # -- workshops ------------------------------------------------------------------------------------
    async def apply_workshop(self, principal: Principal, new: NewWorkshop) -> Doc:
        ce = teacher_ce(principal)
        doc: Doc = {
            "_id": _id(),
            "name": new.name,
            "description": clean_html(new.description),
            "subject": new.subject,
            "stage": new.stage,
            "host_ce_number": ce,
            "status": WorkshopStatus.PENDING.value,
            "reason": None,
            "participants": {ce: self._now()},  # the host takes part in their workshop
            "participant_count": 1,
            "real_activities": 0,
            "featured": False,
            "active": False,
            "hidden": False,
            "version": 0,
            "created_ms": self._now(),
        }
        await self.workshops.add(doc)
        return await self.workshop(principal, doc["_id"])

    async def _load_workshop(self, principal: Principal, workshop_id: str) -> Doc:
        doc = await self.workshops.get(workshop_id)
        if doc is None or not self._sees_workshop(principal, doc):
            raise problem("workshop_not_found", f"Workshop {workshop_id} not found.")
        return doc

    def _sees_workshop(self, principal: Principal, doc: Doc) -> bool:
        if is_centre(principal):
            return True
        if principal.ce_number and doc["host_ce_number"] == principal.ce_number:
            return True
        return principal.has_role(Role.TEACHER) and doc["status"] == WorkshopStatus.APPROVED and not doc.get("hidden")

    async def workshop(self, principal: Principal, workshop_id: str) -> Doc:
        doc = await self._load_workshop(principal, workshop_id)
        participants = doc.pop("participants", {}) or {}
        joined = bool(principal.ce_number and principal.ce_number in participants)
        return {**doc, "joined": joined}

    async def list_workshops(self, principal: Principal, status: str | None = None) -> list[Doc]:
        if is_centre(principal):
            query: Doc = {"status": status} if status else {}
        else:
            teacher_ce(principal)
            query = {"status": WorkshopStatus.APPROVED.value, "hidden": False}
        docs = await self.workshops.listing(query)
        if not is_centre(principal) and principal.ce_number:
            mine = await self.workshops.listing({"host_ce_number": principal.ce_number})
            seen = {d["_id"] for d in docs}
            docs += [d for d in mine if d["_id"] not in seen]
        ce = principal.ce_number
        return [{**d, "joined": bool(ce and ce in (d.pop("participants", {}) or {}))} for d in docs]

    async def _change_workshop(
        self,
        principal: Principal,
        workshop_id: str,
        change: Any,
    ) -> Doc:
        """Read, let ``change(doc)`` compute ``(update, facts, extra_filter)`` (or raise), write with a
        compare-and-set on the version; facts of the active-workshop rule are added when the change makes
        the workshop active. Retries while others change the workshop at the same time."""
        for _ in range(ATTEMPTS):
            doc = await self._load_workshop(principal, workshop_id)
            update, facts, after = change(doc)
            facts = list(facts)
            if rules.becomes_active(doc, after):
                facts += rules.activity_facts(after)
                update.setdefault("$set", {})["active"] = True
            entries = self._entries(facts, principal, title=doc["name"], workshop=doc)
            if await self.workshops.write(workshop_id, doc["version"], update, entries):
                return await self.workshop(principal, workshop_id)
            await asyncio.sleep(0)
        raise problem("busy", "Too many simultaneous changes of this workshop; retry.")

    async def decide_workshop(self, principal: Principal, workshop_id: str, approve: bool, reason: str | None) -> Doc:
        if not is_centre(principal):
            raise problem("workshop_not_found", f"Workshop {workshop_id} not found.")
        if not approve and not (reason and reason.strip()):
            raise problem("reason_required", "A refusal names its reason.")

        def change(doc: Doc) -> tuple[Doc, list[Fact], Doc]:
            if doc["status"] != WorkshopStatus.PENDING:
                raise problem("workshop_not_pending", "The founding was decided already.")
            status = WorkshopStatus.APPROVED if approve else WorkshopStatus.REFUSED
            sets = {
                "status": status.value,
                "reason": reason,
                "decided_ms": self._now(),
                "decided_by": principal.subject,
            }
            facts = rules.founding_facts(doc) if approve else []
            return {"$set": sets}, facts, {**doc, **sets}

        return await self._change_workshop(principal, workshop_id, change)

    async def join(self, principal: Principal, workshop_id: str) -> Doc:
        ce = teacher_ce(principal)
        await self._throttle("joins", ce)

        def change(doc: Doc) -> tuple[Doc, list[Fact], Doc]:
            if doc["status"] != WorkshopStatus.APPROVED or doc.get("hidden"):
                raise problem("workshop_not_approved", "Only an approved workshop can be joined.")
            if ce in (doc.get("participants") or {}):
                raise problem("already_joined", "You take part in this workshop already.")
            after = {
                **doc,
                "participants": {**doc["participants"], ce: self._now()},
                "participant_count": doc["participant_count"] + 1,
            }
            return {"$set": {f"participants.{ce}": self._now()}, "$inc": {"participant_count": 1}}, [], after

        return await self._change_workshop(principal, workshop_id, change)

    async def leave(self, principal: Principal, workshop_id: str) -> Doc:
        ce = teacher_ce(principal)

        def change(doc: Doc) -> tuple[Doc, list[Fact], Doc]:
            if doc["host_ce_number"] == ce:
                raise problem("host_cannot_leave", "The host does not leave their own workshop.")
            if ce not in (doc.get("participants") or {}):
                raise problem("not_joined", "You do not take part in this workshop.")
            participants = {k: v for k, v in doc["participants"].items() if k != ce}
            after = {**doc, "participants": participants, "participant_count": doc["participant_count"] - 1}
            return {"$unset": {f"participants.{ce}": ""}, "$inc": {"participant_count": -1}}, [], after

        return await self._change_workshop(principal, workshop_id, change)

    async def feature(self, principal: Principal, workshop_id: str) -> Doc:
        """置顶: at most once per workshop; the host and every participant of that moment earn."""
        if not is_centre(principal):
            raise problem("workshop_not_found", f"Workshop {workshop_id} not found.")

        def change(doc: Doc) -> tuple[Doc, list[Fact], Doc]:
            if doc["status"] != WorkshopStatus.APPROVED or doc.get("hidden"):
                raise problem("workshop_not_approved", "Only an approved workshop can be featured.")
            if doc.get("featured"):
                raise problem("already_featured", "A workshop is featured at most once.")
            sets = {"featured": True, "featured_ms": self._now()}
            return {"$set": sets}, rules.featuring_facts(doc), {**doc, **sets}

        return await self._change_workshop(principal, workshop_id, change)

    async def rate_satisfaction(self, principal: Principal, workshop_id: str, level: rules.Satisfaction) -> Doc:
        """A participant rates the workshop on the five-level scale: one rating each, changeable; the
        per-level counts move in the same compare-and-set as the rating."""
        ce = teacher_ce(principal)

        def change(doc: Doc) -> tuple[Doc, list[Fact], Doc]:
            if ce == doc["host_ce_number"] or ce not in (doc.get("participants") or {}):
                raise problem("not_joined", "Participants of the workshop rate it.")
            previous = (doc.get("satisfaction") or {}).get(ce)
            inc: Doc = {f"satisfaction_counts.{level.value}": 1}
            if previous is not None:
                inc[f"satisfaction_counts.{previous}"] = inc.get(f"satisfaction_counts.{previous}", 0) - 1
            return {"$set": {f"satisfaction.{ce}": level.value}, "$inc": inc}, [], doc

        await self._change_workshop(principal, workshop_id, change)
        doc = await self._load_workshop(principal, workshop_id)
        return {
            "workshop_id": workshop_id,
            "my_level": level.value,
            **rules.satisfaction_distribution(doc.get("satisfaction_counts") or {}),
        }

    async def satisfaction(self, principal: Principal, workshop_id: str | None = None) -> Doc:
        """The satisfaction distribution of one workshop, or (the centre) of every approved workshop."""
        if workshop_id:
            doc = await self._load_workshop(principal, workshop_id)
            return rules.satisfaction_distribution(doc.get("satisfaction_counts") or {})
        if not is_centre(principal):
            raise problem("not_moderator", "The centre sees the community's statistics.")
        totals: dict[str, int] = {}
        for doc in await self.workshops.listing({"status": WorkshopStatus.APPROVED.value}, limit=100_000):
            for level, count in (doc.get("satisfaction_counts") or {}).items():
                totals[level] = totals.get(level, 0) + int(count)
        return rules.satisfaction_distribution(totals)

    async def statistics(self, principal: Principal) -> list[Doc]:
        """The community by subject for the term report (the centre)."""
        if not is_centre(principal) or self.stats is None:
            raise problem("not_moderator", "The centre sees the community's statistics.")
        return rules.subject_rows(
            await self.stats.workshops(),
            await self.stats.per_workshop(RESOURCES),
            await self.stats.per_workshop(TOPICS),
            await self.stats.assignments(ACTIVITIES, PARTS),
            await self.stats.per_workshop(LOGS),
        )

    async def learning(self, principal: Principal, by: str) -> list[Doc]:
        """表4 by district or by the teacher's own subject: the centre sees the city, a district
        admin their district only (its participants, grouped the same way)."""
        if self.stats is None:
            raise problem("not_moderator", "The centre sees the community's statistics.")
        if is_centre(principal):
            district = None
        elif principal.has_role(Role.DISTRICT_ADMIN) and principal.district:
            district = principal.district
        else:
            raise problem("not_moderator", "The centre and district admins see the community's statistics.")
        people = await self.stats.learners(ACTIVITIES, PARTS, DIRECTORY)
        learners = [rules.Learner.of(p, by) for p in people if district is None or p["district"] == district]
        return rules.learning_rows(learners)

    async def hide_workshop(self, principal: Principal, workshop_id: str, hidden: bool) -> Doc:
        """Hiding a workshop hides its resources and topics: the workshop's own write first (its joins,
        features and activities refuse from then on), then ``workshop_hidden`` on its resources and
        topics (each of their earning writes tests it in its own filter, so those stay one-document
        compare-and-sets). Showing it again clears the flag. Repeating the call finishes a hide that
        stopped between the writes; a share or topic racing with the hide flags itself
        (``_follow_workshop``)."""
        if not is_centre(principal):
            raise problem("workshop_not_found", f"Workshop {workshop_id} not found.")

        def change(doc: Doc) -> tuple[Doc, list[Fact], Doc]:
            return {"$set": {"hidden": hidden}}, [], {**doc, "hidden": hidden}

        doc = await self._change_workshop(principal, workshop_id, change)
        await self.resources.set_workshop_hidden(workshop_id, hidden)
        await self.topics.set_workshop_hidden(workshop_id, hidden)
        return doc

    async def _workshop_of_participant(self, principal: Principal, workshop_id: str | None) -> Doc | None:
        if workshop_id is None:
            return None
        doc = await self._load_workshop(principal, workshop_id)
        if doc.get("hidden"):
            raise problem("workshop_hidden", f"Workshop {workshop_id} is hidden.")
        if doc["status"] != WorkshopStatus.APPROVED or principal.ce_number not in (doc.get("participants") or {}):
            raise problem("not_joined", "Join the workshop first.")
        return doc

    async def _follow_workshop(self, repository: ResourceRepository | TopicRepository, doc: Doc) -> None:
        """After storing content in a workshop: had the workshop been hidden meanwhile (its hide flagged
        the workshop's content before this document was there), flag this one too. The store runs one
        command at a time, so either the hide's flagging came after our insert, or its workshop write
        came before this read."""
        workshop = await self.workshops.get(doc["workshop_id"])
        if workshop is not None and workshop.get("hidden"):
            await repository.collection.update_one({"_id": doc["_id"]}, {"$set": {"workshop_hidden": True}})
            doc["workshop_hidden"] = True

    async def _may_moderate(self, principal: Principal, workshop_id: str | None) -> bool:
        if is_centre(principal):
            return True
        if workshop_id is None or not principal.ce_number:
            return False
        doc = await self.workshops.get(workshop_id)
        return doc is not None and doc["host_ce_number"] == principal.ce_number

    # -- shared resources -----------------------------------------------------------------------------
    async def share(
        self,
        principal: Principal,
        *,
        title: str,
        description: str,
        filename: str,
        data: bytes,
        workshop_id: str | None = None,
    ) -> Doc:
        """共享资源: the first share of a content earns 20 (reference = the content's sha256); the same
        bytes shared again, by anyone, are stored and earn nothing (the unique index decides). Bytes of
        which a copy is hidden by moderation are refused (409 ``content_hidden``): a hidden file does not
        come back as someone's duplicate."""
        ce = teacher_ce(principal)
        await self._throttle("uploads", ce)
        checked = await asyncio.to_thread(
            check_shared_file,
            data,
            filename,
            max_document_bytes=self.limits.max_document_bytes,
            max_video_bytes=self.limits.max_video_bytes,
        )
        workshop = await self._workshop_of_participant(principal, workshop_id)
        fingerprint = await asyncio.to_thread(self.files.put, data)
        doc: Doc = {
            "_id": _id(),
            "title": title,
            "description": clean_html(description),
            "filename": filename[-200:],
            "kind": checked.kind,
            "extension": checked.extension,
            "media_type": checked.media_type,
            "size": checked.size,
            "fingerprint": fingerprint,
            "owner_ce_number": ce,
            "workshop_id": workshop_id,
            "ratings": {},
            "rating_count": 0,
            "rating_sum": 0,
            "excellent": False,
            "hidden": False,
            "workshop_hidden": False,
            "created_ms": self._now(),
        }
        entries = self._entries(
            [Fact(ce, rules.Rule.SHARED_RESOURCE, fingerprint)], principal, title=title, workshop=workshop
        )
        outcome = await self.resources.add(doc, entries)
        if outcome == "hidden":
            raise problem("content_hidden", "A copy of this file is hidden by moderation.")
        if workshop is not None:
            await self._follow_workshop(self.resources, doc)
        earns = outcome == "earns"
        # the resource as a read would give it (no outbox, no ratings map): nobody rated it yet
        stored = {k: v for k, v in doc.items() if k != "ratings"}
        stored["earns"] = earns
        if earns:
            stored["earning_fingerprint"] = fingerprint
        return {**_average(stored), "my_rating": None}

    def _sees(self, principal: Principal, doc: Doc) -> bool:
        """The centre sees everything; a teacher visible content, and their own hidden content."""
        if is_centre(principal):
            return True
        if not principal.has_role(Role.TEACHER):
            return False
        if not (doc.get("hidden") or doc.get("workshop_hidden")):
            return True
        return doc.get("owner_ce_number", doc.get("author_ce_number")) == principal.ce_number

    async def _load_resource(self, principal: Principal, resource_id: str) -> Doc:
        doc = await self.resources.get(resource_id)
        if doc is None or not self._sees(principal, doc):
            raise problem("resource_not_found", f"Resource {resource_id} not found.")
        return doc

    async def resource(self, principal: Principal, resource_id: str) -> Doc:
        doc = await self._load_resource(principal, resource_id)
        ratings = doc.pop("ratings", {}) or {}
        return {**_average(doc), "my_rating": ratings.get(principal.ce_number or "")}

    async def list_resources(self, principal: Principal, workshop_id: str | None = None) -> list[Doc]:
        if not is_centre(principal):
            teacher_ce(principal)
        query: Doc = {"hidden": False, **NOT_WORKSHOP_HIDDEN}
        if workshop_id:
            query["workshop_id"] = workshop_id
        return [_average(d) for d in await self.resources.listing(query)]

    async def download(self, principal: Principal, resource_id: str) -> tuple[Doc, bytes]:
        doc = await self._load_resource(principal, resource_id)
        data = await asyncio.to_thread(self.files.get, doc["fingerprint"])
        if data is None:
            raise problem("resource_not_found", f"The file of resource {resource_id} is gone.")
        return doc, data

    async def rate(self, principal: Principal, resource_id: str, stars: int) -> Doc:
        """One rating per teacher and resource, changeable; the rating whose write makes the resource
        excellent (>= 20 ratings averaging >= 3) carries the owner's fact, once. Only the earning share of
        a content can become excellent (a duplicate is rated for nothing), and nobody who shared the same
        file rates any copy of it (``own_resource``: the earning share notes each duplicate's owner, and
        its compare-and-set refuses them)."""
        ce = teacher_ce(principal)
        if not rules.valid_stars(stars):
            raise problem("invalid_stars", "Stars are 1 to 5.")
        await self._throttle("ratings", ce)
        checked_original = False
        for _ in range(ATTEMPTS):
            doc = await self._load_resource(principal, resource_id)
            if doc.get("hidden") or doc.get("workshop_hidden"):
                raise problem("resource_not_found", f"Resource {resource_id} not found.")
            if doc["owner_ce_number"] == ce or ce in (doc.get("owners") or {}):
                raise problem("own_resource", "Teachers rate others' resources.")
            if not checked_original and doc.get("original_id"):  # a duplicate: its file's other owners
                original = await self.resources.get(doc["original_id"])
                if original and (original["owner_ce_number"] == ce or ce in (original.get("owners") or {})):
                    raise problem("own_resource", "Teachers rate others' resources.")
                checked_original = True
            previous = (doc.get("ratings") or {}).get(ce)
            seen = {"rating_count": doc["rating_count"], "rating_sum": doc["rating_sum"], "excellent": doc["excellent"]}
            outcome = rules.rate(
                doc["rating_count"], doc["rating_sum"], doc["excellent"], previous, stars, earns=bool(doc.get("earns"))
            )
            sets: Doc = {f"ratings.{ce}": stars}
            facts: list[Fact] = []
            if outcome.excellent_now:
                sets["excellent"] = True
                facts.append(Fact(doc["owner_ce_number"], rules.Rule.EXCELLENT_RESOURCE, doc["_id"]))
            inc = {"rating_count": outcome.count_delta, "rating_sum": outcome.sum_delta}
            workshop = await self.workshops.get(doc["workshop_id"]) if doc.get("workshop_id") else None
            entries = self._entries(facts, principal, title=doc["title"], workshop=workshop)
            if await self.resources.rate(resource_id, ce, stars, seen, previous, {"$set": sets, "$inc": inc}, entries):
                # the compare-and-set on the counts makes this the state right after our write: no re-read
                after = {k: v for k, v in doc.items() if k not in ("ratings", "owners")}
                after["rating_count"] = doc["rating_count"] + outcome.count_delta
                after["rating_sum"] = doc["rating_sum"] + outcome.sum_delta
                after["excellent"] = doc["excellent"] or outcome.excellent_now
                return {**_average(after), "my_rating": stars}
            await asyncio.sleep(0)
        raise problem("busy", "Too many simultaneous ratings; retry.")

    async def hide_resource(self, principal: Principal, resource_id: str, hidden: bool) -> Doc:
        doc = await self._load_resource(principal, resource_id)
        if not await self._may_moderate(principal, doc.get("workshop_id")):
            raise problem("not_moderator", "Only the centre or the workshop's host hides content.")
        await self.resources.set_hidden(resource_id, hidden)
        doc["hidden"] = hidden
        doc.pop("ratings", None)
        doc.pop("owners", None)
        return _average(doc)

    # -- topics ---------------------------------------------------------------------------------------
    async def create_topic(self, principal: Principal, title: str, body: str, workshop_id: str | None = None) -> Doc:
        ce = teacher_ce(principal)
        await self._throttle("topics", ce)
        workshop = await self._workshop_of_participant(principal, workshop_id)
        doc: Doc = {
            "_id": _id(),
            "title": title,
            "body": clean_html(body),
            "author_ce_number": ce,
            "workshop_id": workshop_id,
            "participants": {},
            "participant_count": 0,
            "repliers": {},
            "replier_count": 0,
            "post_count": 0,
            "discussed": False,
            "popular": False,
            "hidden": False,
            "workshop_hidden": False,
            "created_ms": self._now(),
        }
        await self.topics.add(doc)
        if workshop is not None:
            await self._follow_workshop(self.topics, doc)
        # the topic as a read would give it: nobody has posted yet (its id is not out before this answer)
        return {**{k: v for k, v in doc.items() if k not in ("participants", "repliers")}, "posts": []}

    async def _load_topic(self, principal: Principal, topic_id: str) -> Doc:
        doc = await self.topics.get(topic_id)
        if doc is None or not self._sees(principal, doc):
            raise problem("topic_not_found", f"Topic {topic_id} not found.")
        return doc

    async def topic(self, principal: Principal, topic_id: str) -> Doc:
        doc = await self._load_topic(principal, topic_id)
        return {**_public_topic(doc), "posts": await self.posts.of_topic(topic_id)}

    async def list_topics(self, principal: Principal, workshop_id: str | None = None) -> list[Doc]:
        if not is_centre(principal):
            teacher_ce(principal)
        query: Doc = {"hidden": False, **NOT_WORKSHOP_HIDDEN}
        if workshop_id:
            query["workshop_id"] = workshop_id
        return await self.topics.listing(query)

    async def post(
        self, principal: Principal, topic_id: str, kind: PostKind, body: str, parent_id: str | None = None
    ) -> Doc:
        """A reply to the topic or a comment on a reply; a new distinct replier / participant is counted in
        the topic document, and the write that reaches 10 repliers / 20 participants carries the fact."""
        ce = teacher_ce(principal)
        await self._throttle("posts", ce)
        topic = await self._load_topic(principal, topic_id)
        if not rules.topic_earns(topic):
            raise problem("topic_not_found", f"Topic {topic_id} not found.")
        if kind == PostKind.COMMENT:
            parent = await self.posts.get(parent_id or "")
            if parent is None or parent["topic_id"] != topic_id or parent.get("hidden") or parent["kind"] != "reply":
                raise problem("post_not_found", "A comment is on a visible reply of this topic.")
        post = {
            "_id": _id(),
            "topic_id": topic_id,
            "kind": kind.value,
            "parent_id": parent_id if kind == PostKind.COMMENT else None,
            "ce_number": ce,
            "body": clean_html(body),
            "hidden": False,
            "created_ms": self._now(),
        }
        await self.posts.add(post)
        workshop = await self.workshops.get(topic["workshop_id"]) if topic.get("workshop_id") else None
        await self._count_post(principal, topic, post, workshop)
        return post

    async def _count_post(
        self, principal: Principal, topic: Doc, post: Doc, workshop: Doc | None, shown_again: bool = False
    ) -> None:
        """Count a visible post in its topic (``shown_again``: a hidden post shown again, whose mark in
        the topic goes in the same write); the author's posts only count as posts."""
        topic_id, ce, kind = topic["_id"], post["ce_number"], PostKind(post["kind"])
        for _ in range(ATTEMPTS):
            if shown_again and post["_id"] not in (topic.get("hidden_posts") or {}):
                return  # another moderator showed it at the same time: counted once, by them
            change = rules.post_change(topic, ce, kind)
            if not change.counted:
                if shown_again:
                    await self.topics.show_uncounted_post(topic_id, post["_id"])
                else:
                    await self.topics.bump_posts(topic_id)
                return
            flags: Doc = {}
            for fact in change.facts:
                flags["discussed" if fact.rule == rules.Rule.DISCUSSION_TOPIC else "popular"] = True
            entries = self._entries(change.facts, principal, title=topic["title"], workshop=workshop)
            guards = rules.topic_guards(topic, change)
            if await self.topics.count_post(
                topic_id,
                ce,
                change,
                kind == PostKind.REPLY,
                guards,
                flags,
                entries,
                shown_again=post["_id"] if shown_again else None,
            ):
                return
            await asyncio.sleep(0)
            topic = await self._reread_topic(topic_id)
        if not shown_again:
            await self.topics.bump_posts(topic_id)
        raise problem("busy", "Too many simultaneous replies; retry.")

    async def _reread_topic(self, topic_id: str) -> Doc:
        topic = await self.topics.get(topic_id)
        if topic is None:
            raise problem("topic_not_found", f"Topic {topic_id} not found.")
        return topic

    async def hide_topic(self, principal: Principal, topic_id: str, hidden: bool) -> Doc:
        doc = await self._load_topic(principal, topic_id)
        if not await self._may_moderate(principal, doc.get("workshop_id")):
            raise problem("not_moderator", "Only the centre or the workshop's host hides content.")
        await self.topics.set_hidden(topic_id, hidden)
        doc["hidden"] = hidden
        return {**_public_topic(doc), "posts": await self.posts.of_topic(topic_id)}

    async def hide_post(self, principal: Principal, topic_id: str, post_id: str, hidden: bool) -> None:
        """A hidden post is not listed and stops counting toward the topic's thresholds not yet crossed
        (its teacher leaves the distinct counts with their last visible post; a line crossed stays crossed
        and its fact stays earned); shown again, it counts again (and may cross a line). The topic's
        counters and the post's mark ``hidden_posts.<id>`` change in one compare-and-set, so a hide counts
        once however often it is repeated; the post's own flag follows."""
        topic = await self._load_topic(principal, topic_id)
        post = await self.posts.get(post_id)
        if post is None or post["topic_id"] != topic_id:
            raise problem("post_not_found", f"Post {post_id} not found.")
        if not await self._may_moderate(principal, topic.get("workshop_id")):
            raise problem("not_moderator", "Only the centre or the workshop's host hides content.")
        if hidden:
            for _ in range(ATTEMPTS):
                if post_id in (topic.get("hidden_posts") or {}):
                    break
                change = rules.hidden_post_change(topic, post["ce_number"], post["kind"])
                if await self.topics.uncount_post(topic_id, post_id, post["ce_number"], change):
                    break
                await asyncio.sleep(0)
                topic = await self._reread_topic(topic_id)
            else:
                raise problem("busy", "Too many simultaneous replies; retry.")
        elif post_id in (topic.get("hidden_posts") or {}):
            workshop = await self.workshops.get(topic["workshop_id"]) if topic.get("workshop_id") else None
            await self._count_post(principal, topic, post, workshop, shown_again=True)
        await self.posts.set_hidden(post_id, hidden)


def _public_topic(doc: Doc) -> Doc:
    """A topic without the maps behind its counts."""
    return {k: v for k, v in doc.items() if k not in ("participants", "repliers", "hidden_posts")}


def _average(doc: Doc) -> Doc:
    count = int(doc.get("rating_count", 0))
    return {**doc, "average_stars": round(doc.get("rating_sum", 0) / count, 2) if count else None}
