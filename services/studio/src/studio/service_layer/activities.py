"""Stages and activities: build, publish, QR check-in, parts done, the summary that organises an
activity and credits its hours once per participant (StudioTrainingRecorded through the outbox).

The one activity model of the service: a research workshop's activities (``owner_kind: "workshop"``) are
built, checked, extended by a segment, done part by part and organised by the same methods
(``new_activity``, ``owned``, ``append_segment``, ``record_part``, ``organise``) as a studio's
(``owner_kind: "studio"``; older documents without the field are a studio's); what differs (who may,
which points or hours go out) is the owner's: ``studio.service_layer.workshop_activities``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from jijiao_contracts import Actor
from jijiao_contracts.events.studio import (
    StudioActivityAnnounced,
    StudioActivityPublished,
    StudioSummaryDue,
    StudioTrainingRecorded,
)
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.outbox import outbox_entry
from jijiao_kit.timeutil import epoch_ms
from studio.adapters.activities import (
    ActivityRepository,
    ParticipationRepository,
    StageRepository,
    SubmissionRepository,
)
from studio.adapters.content import FileRepository
from studio.adapters.qr import CheckinTokens, qr_image
from studio.adapters.recruitment import ApplicationRepository
from studio.adapters.richtext import clean_html
from studio.domain import activities as rules
from studio.domain import community as community_rules
from studio.domain.problems import problem
from studio.service_layer import access
from studio.service_layer.access import Standing
from studio.service_layer.community import CommunityService
from studio.service_layer.studios import StudioService

Doc = dict[str, Any]
EDITORS = (Standing.HOST, Standing.ASSISTANT)
#: Compare-and-set attempts of a discussion post's topic counters under racing replies.
TOPIC_ATTEMPTS = 500
#: Compare-and-set attempts of a segment added while others add theirs.
SEGMENT_ATTEMPTS = 500


def _id() -> str:
    return uuid.uuid4().hex[:12]


class ActivityService:
    def __init__(
        self,
        studios: StudioService,
        stages: StageRepository,
        activities: ActivityRepository,
        parts: ParticipationRepository,
        applications: ApplicationRepository,
        tokens: CheckinTokens,
        clock: Clock,
        public_base_url: str,
        files: FileRepository | None = None,
        submissions: SubmissionRepository | None = None,
    ) -> None:
        self.files = files
        self.submissions = submissions
        #: Set by the composition root: the points facts of online activities are the community's.
        self.community: CommunityService | None = None
        self.studios = studios
        self.stages = stages
        self.activities = activities
        self.parts = parts
        self.applications = applications
        self.tokens = tokens
        self.clock = clock
        self.public_base_url = public_base_url.rstrip("/")

    def _now(self) -> int:
        return epoch_ms(self.clock.now())

    async def _as_host(self, principal: Principal, studio_id: str) -> Doc:
        studio, who = await self.studios.visible(principal, studio_id)
        if who is not Standing.HOST:
            raise problem("not_host", f"Only the host of studio {studio_id} may do this.")
        return studio

    async def _as_editor(self, principal: Principal, studio_id: str) -> tuple[Doc, Standing]:
        studio, who = await self.studios.visible(principal, studio_id)
        if who not in EDITORS:
            raise problem("not_host", f"Only the host or an assistant of studio {studio_id} may do this.")
        return studio, who

    # -- stages -----------------------------------------------------------------------------------
    async def add_stage(self, principal: Principal, studio_id: str, name: str, description: str | None) -> Doc:
        await self._as_host(principal, studio_id)
        order = len(await self.stages.of_studio(studio_id))
        doc = {"_id": _id(), "studio_id": studio_id, "name": name, "description": description, "order": order}
        await self.stages.add(doc)
        return doc

    async def list_stages(self, principal: Principal, studio_id: str) -> list[Doc]:
        _, who = await self.studios.visible(principal, studio_id)
        if who is Standing.NONE:
            raise access.not_found(studio_id)
        return await self.stages.of_studio(studio_id)

    async def edit_stage(self, principal: Principal, studio_id: str, stage_id: str, fields: Doc) -> Doc:
        await self._as_host(principal, studio_id)
        if not await self.stages.update(studio_id, stage_id, fields):
            raise problem("stage_not_found", f"Stage {stage_id} not found.")
        stage = await self.stages.get(studio_id, stage_id)
        assert stage is not None
        return stage

    async def delete_stage(self, principal: Principal, studio_id: str, stage_id: str) -> None:
        await self._as_host(principal, studio_id)
        if await self.activities.count({"studio_id": studio_id, "stage_id": stage_id}):
            raise problem("invalid_activity", "Delete or move the stage's activities first.")
        if not await self.stages.delete(studio_id, stage_id):
            raise problem("stage_not_found", f"Stage {stage_id} not found.")

    async def reorder_stages(self, principal: Principal, studio_id: str, ids: list[str]) -> list[Doc]:
        await self._as_host(principal, studio_id)
        known = {s["_id"] for s in await self.stages.of_studio(studio_id)}
        if set(ids) != known or len(ids) != len(known):
            raise problem("invalid_activity", "The order must name every stage of the studio once.")
        await self.stages.reorder(studio_id, ids)
        return await self.stages.of_studio(studio_id)

    # -- the one activity model, whoever owns it (a studio, a research workshop) -------------------
    async def new_activity(self, owner_kind: str, owner_id: str, body: Doc, *, status: str) -> Doc:
        """An activity of a studio (``owner_kind`` "studio", by stage) or of a workshop ("workshop", no
        stage) as its owner submits it, not stored yet: segments get ids, the description is sanitised,
        the domain rules check it (422 ``invalid_activity``); ``studio_id`` holds the owner's id."""
        segments = [{**seg, "id": seg.get("id") or _id()} for seg in body.get("segments") or []]
        doc = {
            "description": None,
            "place": None,
            "hours": None,
            "stage_id": None,
            **body,
            "segments": segments,
            "options": body.get("options") or {},
        }
        if isinstance(doc["description"], str):
            doc["description"] = clean_html(doc["description"])
        if errors := rules.activity_problems(doc):
            raise problem("invalid_activity", "; ".join(errors))
        # its place among the stage's activities (a workshop's: among the workshop's; the store's count by
        # ``stage_id: None`` matches no null, tests/store_contract)
        order_of: Doc = {"studio_id": owner_id, **({"stage_id": doc["stage_id"]} if doc["stage_id"] else {})}
        doc |= {
            "_id": _id(),
            "studio_id": owner_id,
            "owner_kind": owner_kind,
            "status": status,
            "organised": False,
            "summary": None,
            "reminded_ms": None,
            "revision": 0,
            "order": await self.activities.count(order_of),
            "created_ms": self._now(),
        }
        return doc

    async def owned(self, owner_kind: str, owner_id: str, activity_id: str) -> Doc:
        """The activity of this owner (404 ``activity_not_found`` for another owner's or another kind's)."""
        activity = await self.activities.get(owner_id, activity_id)
        if activity is None or activity.get("owner_kind", "studio") != owner_kind:
            raise problem("activity_not_found", f"Activity {activity_id} not found.")
        return activity

    async def append_segment(
        self,
        owner_kind: str,
        owner_id: str,
        activity_id: str,
        segment: Doc,
        entries_of: Callable[[Doc, Doc], list[Doc]],
    ) -> Doc:
        """Add a segment to an activity not organised yet, with the events ``entries_of(activity,
        segment)`` names, in one write: compare-and-set on the activity's ``revision``, the segments
        written whole (never ``$push`` of a sub-document), retried while others add at the same time."""
        for _ in range(SEGMENT_ATTEMPTS):
            activity = await self.owned(owner_kind, owner_id, activity_id)
            if activity.get("organised"):
                raise problem("activity_not_editable", "An organised activity cannot be changed.")
            new = {**segment, "id": _id()}
            segments = [*activity["segments"], new]
            if errors := rules.activity_problems({**activity, "segments": segments}):
                raise problem("invalid_activity", "; ".join(errors))
            revision: Doc | int = int(activity["revision"]) if "revision" in activity else {"$exists": False}
            expect = {"organised": False, "revision": revision}
            entries = entries_of(activity, new)
            if await self.activities.add_event(owner_id, activity_id, {"segments": segments}, entries, expect):
                return new
            await asyncio.sleep(0)
        raise problem("activity_busy", "Too many simultaneous changes of this activity; retry.")

    async def record_part(self, activity: Doc, ce_number: str, part: str) -> bool:
        """A participant did a part that is not a check-in (a segment read, watched, discussed); False
        when done before."""
        if part == "checkin" or not rules.is_part(activity, part):
            raise problem("invalid_activity", f"{part} is not a part of this activity a participant does.")
        return await self.parts.record(activity["_id"], ce_number, part, self._now())

    async def organise(
        self,
        principal: Principal,
        activity: Doc,
        text: str,
        credits: Callable[[dict[str, set[str]]], Awaitable[tuple[list[Doc], Doc]]],
    ) -> Doc:
        """The summary (活动小结, sanitised) organises a published activity once it ended, exactly once
        (conditional write): ``credits(parts done by each participant)`` names the owner's events
        (hours, points facts) and fields that go out in that same write."""
        if activity["status"] != "published":
            raise problem("activity_not_editable", "Publish the activity before writing its summary.")
        now = self._now()
        if not rules.may_write_summary(int(activity["ends_ms"]), now):
            raise problem("activity_not_ended", "The summary is written after the activity ends.")
        if activity.get("organised"):
            raise problem("summary_exists", "The summary was written already.")
        entries, extra = await credits(await self.parts.done_by(activity["_id"]))
        fields = {"summary": {"text": clean_html(text), "at_ms": now, "by": principal.ce_number}, **extra}
        if not await self.activities.organise(activity["studio_id"], activity["_id"], fields, entries):
            raise problem("summary_exists", "The summary was written already.")
        return {**activity, **fields, "organised": True}

    # -- a studio's activities --------------------------------------------------------------------
    async def create(self, principal: Principal, studio_id: str, body: Doc) -> Doc:
        await self._as_editor(principal, studio_id)
        if await self.stages.get(studio_id, body["stage_id"]) is None:
            raise problem("stage_not_found", f"Stage {body['stage_id']} not found.")
        doc = await self.new_activity("studio", studio_id, body, status="draft")
        await self._check_files(studio_id, doc)
        await self.activities.add(doc)
        return doc

    async def _visible_activity(
        self, principal: Principal, studio_id: str, activity_id: str
    ) -> tuple[Doc, Doc, Standing]:
        studio, who = await self.studios.visible(principal, studio_id)
        activity = await self.activities.get(studio_id, activity_id)
        if activity is None or who is Standing.NONE:
            raise problem("activity_not_found", f"Activity {activity_id} not found.")
        if who in EDITORS or who is Standing.ADMIN:
            return studio, activity, who
        if activity["status"] != "published" or not rules.open_to(activity["mode"], who.value):
            raise problem("activity_not_found", f"Activity {activity_id} not found.")
        return studio, activity, who

    async def get(self, principal: Principal, studio_id: str, activity_id: str) -> Doc:
        _, activity, _ = await self._visible_activity(principal, studio_id, activity_id)
        return activity

    async def listing(self, principal: Principal, studio_id: str, stage_id: str | None) -> list[Doc]:
        _, who = await self.studios.visible(principal, studio_id)
        if who is Standing.NONE:
            raise access.not_found(studio_id)
        everything = who in EDITORS or who is Standing.ADMIN
        docs = await self.activities.of_studio(studio_id, published_only=not everything, stage_id=stage_id)
        return [d for d in docs if everything or rules.open_to(d["mode"], who.value)]

    async def edit(self, principal: Principal, studio_id: str, activity_id: str, fields: Doc) -> Doc:
        await self._as_editor(principal, studio_id)
        current = await self.activities.get(studio_id, activity_id)
        if current is None:
            raise problem("activity_not_found", f"Activity {activity_id} not found.")
        if "segments" in fields:
            fields["segments"] = [{**seg, "id": seg.get("id") or _id()} for seg in fields["segments"]]
        if isinstance(fields.get("description"), str):
            fields["description"] = clean_html(fields["description"])
        if errors := rules.activity_problems({**current, **fields}):
            raise problem("invalid_activity", "; ".join(errors))
        await self._check_files(studio_id, fields)
        if not await self.activities.update_unorganised(studio_id, activity_id, fields):
            raise problem("activity_not_editable", "An organised activity cannot be changed.")
        return await self.get(principal, studio_id, activity_id)

    async def publish(self, principal: Principal, studio_id: str, activity_id: str) -> Doc:
        studio, _ = await self._as_editor(principal, studio_id)
        activity = await self.activities.get(studio_id, activity_id)
        if activity is None:
            raise problem("activity_not_found", f"Activity {activity_id} not found.")
        roles = ("member",) if activity["mode"] == rules.Mode.OFFLINE else ("member", "student")
        recipients = [m["ce_number"] for m in await self.applications.members(studio_id) if m["role"] in roles]
        event = StudioActivityPublished(
            activity_id=activity_id,
            studio_id=studio_id,
            studio_name=studio["name"],
            title=activity["title"],
            mode=activity["mode"],
            starts_at=datetime.fromtimestamp(activity["starts_ms"] / 1000, UTC).isoformat(),
            recipients=recipients,
        )
        actor = Actor(subject=principal.subject)
        entries = [outbox_entry(event, producer="studio", actor=actor)]
        common = event.model_dump(include={"activity_id", "studio_id", "studio_name", "title", "mode", "starts_at"})
        entries += [
            outbox_entry(StudioActivityAnnounced(ce_number=ce, **common), producer="studio", actor=actor)
            for ce in recipients
        ]
        fields = {"status": "published", "published_ms": self._now()}
        if not await self.activities.update_unorganised(studio_id, activity_id, fields, entries, status="draft"):
            raise problem("activity_not_editable", "The activity is published already.")
        return await self.get(principal, studio_id, activity_id)

    async def delete(self, principal: Principal, studio_id: str, activity_id: str) -> None:
        await self._as_editor(principal, studio_id)
        if not await self.activities.delete_unorganised(studio_id, activity_id):
            if await self.activities.get(studio_id, activity_id) is None:
                raise problem("activity_not_found", f"Activity {activity_id} not found.")
            raise problem("activity_not_editable", "An organised activity cannot be deleted.")

    async def reorder(self, principal: Principal, studio_id: str, stage_id: str, ids: list[str]) -> list[Doc]:
        await self._as_editor(principal, studio_id)
        known = {a["_id"] for a in await self.activities.of_studio(studio_id, published_only=False, stage_id=stage_id)}
        if set(ids) != known or len(ids) != len(known):
            raise problem("invalid_activity", "The order must name every activity of the stage once.")
        await self.activities.reorder(studio_id, ids)
        return await self.activities.of_studio(studio_id, published_only=False, stage_id=stage_id)

    # -- QR codes and check-in --------------------------------------------------------------------
    def mobile_url(self, studio_id: str, activity_id: str) -> str:
        return f"{self.public_base_url}/m/studios/{studio_id}/activities/{activity_id}"

    async def qr(self, principal: Principal, studio_id: str, activity_id: str, kind: str) -> bytes:
        await self.get(principal, studio_id, activity_id)
        return qr_image(self.mobile_url(studio_id, activity_id), kind)

    async def checkin_token(self, principal: Principal, studio_id: str, activity_id: str) -> Doc:
        await self._as_editor(principal, studio_id)
        activity = await self.activities.get(studio_id, activity_id)
        if activity is None:
            raise problem("activity_not_found", f"Activity {activity_id} not found.")
        if not rules.uses_checkin(activity):
            raise problem("no_checkin", "This activity has no check-in.")
        token, expires = self.tokens.issue(activity_id, studio_id, self._now() // 1000)
        url = f"{self.mobile_url(studio_id, activity_id)}/checkin?token={token}"
        return {"token": token, "expires_at": datetime.fromtimestamp(expires, UTC), "url": url}

    async def checkin_qr(self, principal: Principal, studio_id: str, activity_id: str, kind: str) -> bytes:
        return qr_image((await self.checkin_token(principal, studio_id, activity_id))["url"], kind)

    async def check_in(self, principal: Principal, studio_id: str, activity_id: str, token: str) -> Doc:
        _, activity, who = await self._visible_activity(principal, studio_id, activity_id)
        if not rules.uses_checkin(activity) or activity["status"] != "published":
            raise problem("no_checkin", "This activity has no check-in.")
        if self.tokens.activity_of(token, self._now() // 1000) != activity_id:
            raise problem("invalid_checkin_token", "The check-in token is forged, expired or for another activity.")
        if who not in (Standing.HOST, Standing.ASSISTANT, Standing.MEMBER) or not principal.ce_number:
            raise problem("not_participant", "Only members of the studio check in.")
        if activity.get("organised"):
            raise problem("activity_not_editable", "The activity is organised already.")
        if not await self.parts.record(activity_id, principal.ce_number, "checkin", self._now()):
            raise problem("already_checked_in", "You checked in already.")
        return {"activity_id": activity_id, "ce_number": principal.ce_number, "checked_in": True}

    async def mark_done(self, principal: Principal, studio_id: str, activity_id: str, part: str) -> Doc:
        """A participant did a part that is not a check-in (a segment read or watched, an evaluation)."""
        _, activity, who = await self._visible_activity(principal, studio_id, activity_id)
        if who in (Standing.ADMIN, Standing.NONE) or not principal.ce_number:
            raise problem("not_participant", "Only participants do an activity's parts.")
        await self.record_part(activity, principal.ce_number, part)
        return await self.progress(principal, studio_id, activity_id)

    async def progress(self, principal: Principal, studio_id: str, activity_id: str) -> Doc:
        _, activity, _ = await self._visible_activity(principal, studio_id, activity_id)
        done = (await self.parts.done_by(activity_id)).get(principal.ce_number or "", set())
        return {
            "required": sorted(rules.required_parts(activity)),
            "done": sorted(done),
            "completed": rules.completed(activity, done),
        }

    async def attendance(self, principal: Principal, studio_id: str, activity_id: str) -> Doc:
        await self._as_editor(principal, studio_id)
        activity = await self.activities.get(studio_id, activity_id)
        if activity is None:
            raise problem("activity_not_found", f"Activity {activity_id} not found.")
        done = await self.parts.done_by(activity_id)
        return {
            "checked_in": sorted(ce for ce, parts in done.items() if "checkin" in parts),
            "completed": sorted(ce for ce, parts in done.items() if rules.completed(activity, parts)),
        }

    # -- the summary organises the activity and credits its hours once ----------------------------
    async def write_summary(self, principal: Principal, studio_id: str, activity_id: str, text: str) -> Doc:
        studio = await self._as_host(principal, studio_id)
        activity = await self.owned("studio", studio_id, activity_id)

        async def credits(done: dict[str, set[str]]) -> tuple[list[Doc], Doc]:
            """Offline: the hours of the host and of each member who completed it (StudioTrainingRecorded);
            online: the community's participation points."""
            entries: list[Doc] = []
            credited: list[str] = []
            if activity["mode"] == rules.Mode.OFFLINE:
                members = {m["ce_number"] for m in await self.applications.members(studio_id, "member")}
                credited = sorted(ce for ce in members if rules.completed(activity, done.get(ce, set())))
                year = datetime.fromtimestamp(activity["starts_ms"] / 1000, UTC).year
                actor = Actor(subject=principal.subject)
                for ce, role in [(studio["host_ce_number"], "host"), *((ce, "member") for ce in credited)]:
                    event = StudioTrainingRecorded(
                        record_id=f"{activity_id}:{ce}",  # a repeat or correction is the same record: never twice
                        ce_number=ce,
                        year=year,
                        hours=float(activity["hours"]),
                        studio_id=studio_id,
                        title=activity["title"],
                        role=role,
                    )
                    entries.append(outbox_entry(event, producer="studio", actor=actor))
            elif self.community is not None:
                entries += await self._participation_points(principal, studio, activity, done)
            return entries, {"credited": credited}

        await self.organise(principal, activity, text, credits)
        return await self.get(principal, studio_id, activity_id)

    async def _participation_points(
        self, principal: Principal, studio: Doc, activity: Doc, done: dict[str, set[str]]
    ) -> list[Doc]:
        """网上工作室研修活动 earn points by the 网络研修积分兑换学时规则 (regulation item 7): an online
        activity with more than ten participants and outputs (files shared in its resource segments)
        gives each participant ``activity_participation`` once. The facts are the community's (same rule,
        reference = activity id, same event); they go out in the organising write, which happens once."""
        assert self.community is not None and self.submissions is not None
        participants = {ce for ce in done if ce != studio["host_ce_number"]}
        outputs = 0
        for seg in activity.get("segments") or []:
            if seg.get("kind") == "resources":
                outputs += len(await self.submissions.of_part(activity["_id"], seg["id"]))
        facts = community_rules.participation_facts(activity["_id"], participants, outputs)
        return self.community._entries(facts, principal, title=activity.get("title"))

    # -- reminders (worker job) -------------------------------------------------------------------
    async def remind_summaries(self) -> int:
        """Tell each host once that an ended activity still lacks its summary (idempotent per activity)."""
        sent = 0
        for activity in await self.activities.summary_due(self._now()):
            studio = await self.studios.studios.get(activity["studio_id"])
            if studio is None:
                continue
            event = StudioSummaryDue(
                activity_id=activity["_id"],
                studio_id=studio["_id"],
                studio_name=studio["name"],
                title=activity["title"],
                host_ce_number=studio["host_ce_number"],
            )
            if await self.activities.mark_reminded(
                activity["_id"], self._now(), [outbox_entry(event, producer="studio")]
            ):
                sent += 1
        return sent

    # -- files attached by the host, submissions by participants ---------------------------------
    async def _files(self, studio_id: str, ids: list[str], owner: str | None = None) -> list[Doc]:
        if not ids:
            return []
        assert self.files is not None
        query: Doc = {"_id": {"$in": ids}, "studio_id": studio_id}
        if owner:
            query["owner"] = owner
        found = await self.files.find(query)
        if len(found) != len(set(ids)):
            raise problem("file_not_found", "A file named is not an uploaded file of yours in this studio.")
        return [{"id": f["_id"], "name": f["name"], "ext": f["ext"], "size": f["size"]} for f in found]

    async def _check_files(self, studio_id: str, doc: Doc) -> None:
        """Documents of segments and the host's materials name files uploaded to the studio."""
        for seg in doc.get("segments") or []:
            await self._files(studio_id, list(seg.get("file_ids") or []))
        materials = (doc.get("options") or {}).get("materials") or {}
        await self._files(studio_id, list(materials.get("file_ids") or []))

    async def submit(
        self,
        principal: Principal,
        studio_id: str,
        activity_id: str,
        part: str,
        *,
        text: str | None,
        file_ids: list[str],
        answers: dict[str, Any],
        reply_to: str | None,
    ) -> Doc:
        _, activity, who = await self._visible_activity(principal, studio_id, activity_id)
        if who in (Standing.ADMIN, Standing.NONE) or not principal.ce_number or activity["status"] != "published":
            raise problem("not_participant", "Only participants take part in a published activity.")
        if activity.get("organised"):
            raise problem("activity_not_editable", "The activity is organised already.")
        if error := rules.submission_problem(activity, part, text=text, files=len(file_ids), answers=answers):
            raise problem("invalid_activity", error)
        files = await self._files(studio_id, file_ids, owner=principal.ce_number)
        kind = rules.part_kind(activity, part)
        assert self.submissions is not None
        if reply_to is not None and not any(
            d["_id"] == reply_to for d in await self.submissions.of_part(activity_id, part)
        ):
            raise problem("invalid_activity", "A comment replies to a post of this discussion.")
        doc = {
            "_id": f"{activity_id}:{part}:{principal.ce_number}" if kind == "evaluation" else _id(),
            "activity_id": activity_id,
            "studio_id": studio_id,
            "part": part,
            "kind": kind,
            "ce_number": principal.ce_number,
            "text": clean_html(text) if text else None,
            "files": files,
            "answers": answers,
            "reply_to": reply_to,
            "created_ms": self._now(),
        }
        try:
            await self.submissions.add(doc)
        except DuplicateKeyError:
            raise problem("already_decided", "You evaluated this activity already.") from None
        await self.parts.record(activity_id, principal.ce_number, part, self._now())
        if kind == "resources" and self.community is not None and file_ids:
            await self._shared_resource_points(principal, studio_id, activity, file_ids)
        if kind == "discussion" and self.community is not None:
            await self._topic_points(principal, studio_id, activity_id, part, reply_to)
        return doc

    async def _topic_points(
        self, principal: Principal, studio_id: str, activity_id: str, part: str, reply_to: str | None
    ) -> None:
        """A discussion segment is a topic (研讨话题) whose author is the studio's host; a post is a reply
        to it, a comment a comment on a reply. The community's rules (``post_change``) decide: ten or
        more distinct repliers earn ``discussion_topic``, twenty or more participants ``popular_topic``,
        each once (reference ``<activity>:<segment>``). The distinct teachers, their counts, the flags
        and the facts are one compare-and-set write on the activity, retried while replies race."""
        assert self.community is not None and principal.ce_number
        ce = principal.ce_number
        kind = community_rules.PostKind.REPLY if reply_to is None else community_rules.PostKind.COMMENT
        key = f"topics.{part}"
        for _ in range(TOPIC_ATTEMPTS):
            activity = await self.activities.get(studio_id, activity_id)
            studio = await self.studios.studios.get(studio_id)
            if activity is None or studio is None:
                return
            stored = (activity.get("topics") or {}).get(part)
            topic = {
                "_id": f"{activity_id}:{part}",
                "author_ce_number": studio["host_ce_number"],
                **(stored or {"participants": {}, "repliers": {}, "participant_count": 0, "replier_count": 0}),
            }
            change = community_rules.post_change(topic, ce, kind)
            if not (change.new_participant or change.new_replier):
                return
            fields: Doc = {}
            if change.new_participant:
                fields[f"{key}.participants.{ce}"] = 1
                fields[f"{key}.participant_count"] = int(topic["participant_count"]) + 1
            if change.new_replier:
                fields[f"{key}.repliers.{ce}"] = 1
                fields[f"{key}.replier_count"] = int(topic["replier_count"]) + 1
            for fact in change.facts:
                fields[
                    f"{key}.discussed" if fact.rule == community_rules.Rule.DISCUSSION_TOPIC else f"{key}.popular"
                ] = True
            expect: Doc = (
                {f"{key}.participant_count": topic["participant_count"], f"{key}.replier_count": topic["replier_count"]}
                if stored
                else {key: {"$exists": False}}
            )
            if not stored:  # the first post creates the topic's record as a whole
                record: Doc = {"participants": {}, "repliers": {}, "participant_count": 0, "replier_count": 0}
                for path, value in fields.items():
                    *inner, leaf = path.removeprefix(f"{key}.").split(".")
                    target: Doc = record[inner[0]] if inner else record
                    target[leaf] = value
                fields = {key: record}
            entries = self.community._entries(change.facts, principal, title=activity.get("title"))
            if await self.activities.add_event(studio_id, activity_id, fields, entries, expect=expect):
                return
            await asyncio.sleep(0)
        raise problem("topic_busy", "Too many simultaneous replies; retry.")

    async def _shared_resource_points(
        self, principal: Principal, studio_id: str, activity: Doc, file_ids: list[str]
    ) -> None:
        """共享资源 (the community's ``shared_resource``, reference = the content's sha256): the first share of
        a content in an online activity's resource segment earns its sharer once; the same bytes shared
        again, by anyone, earn nothing. The claim (``shared.<sha256>`` on the activity) and its fact are
        one compare-and-set write, so parallel shares of the same bytes make exactly one fact."""
        assert self.community is not None and self.files is not None and principal.ce_number
        digests = sorted(
            {f["digest"] for f in await self.files.find({"_id": {"$in": file_ids}, "studio_id": studio_id})}
        )
        for digest in digests:
            fact = community_rules.Fact(principal.ce_number, community_rules.Rule.SHARED_RESOURCE, digest)
            entries = self.community._entries([fact], principal, title=activity.get("title"))
            claim = {f"shared.{digest}": {"ce_number": principal.ce_number, "at_ms": self._now()}}
            await self.activities.add_event(
                studio_id, activity["_id"], claim, entries, expect={f"shared.{digest}": {"$exists": False}}
            )

    async def list_submissions(self, principal: Principal, studio_id: str, activity_id: str, part: str) -> list[Doc]:
        """Shared resources and discussions are seen by every participant; outputs and evaluation
        answers by the host and assistants, and each participant's own."""
        _, activity, who = await self._visible_activity(principal, studio_id, activity_id)
        kind = rules.part_kind(activity, part)
        if kind not in rules.SUBMITTED_KINDS:
            raise problem("invalid_activity", f"{part} takes no submissions")
        assert self.submissions is not None
        everyone = kind in ("resources", "discussion") or who in EDITORS or who is Standing.ADMIN
        return await self.submissions.of_part(activity_id, part, None if everyone else principal.ce_number or "-")
