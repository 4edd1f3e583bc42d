"""The research community in the store: workshops, shared resources, topics and their posts.

Every change that can earn points is one conditional single-document write that carries its
PointsFactRecorded entries in the document's outbox (compare-and-set on the counters the rule reads), so
a threshold crossed by simultaneous requests gives one fact. The first share of a file earns through a
sparse unique index on ``earning_fingerprint``: the store decides which of simultaneous shares earns.

The request paths of a busy community (reads by id, shares, posts, ratings, counting writes) go through
group commit (``jijiao_kit.coalescing``): concurrent callers share one store command, each with its own
outcome (a duplicate fingerprint, a compare-and-set that did not match), as when sent alone. The
coalesced updates are upserts on an existing ``_id`` (how a bulk reports a non-match): resources and
topics are never deleted (moderation hides them). A read's copy is shallow: callers replace nested
maps, never change them in place.

Hiding a workshop flags its resources and topics (``workshop_hidden``, ``set_workshop_hidden``): every
earning write of a resource or topic then refuses in its own single-document filter
(``NOT_WORKSHOP_HIDDEN``), so hidden content earns nothing without reading the workshop."""

from __future__ import annotations

from typing import Any, Literal

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from jijiao_kit.coalescing import CoalescingInserter, CoalescingReader, CoalescingUpdater
from jijiao_kit.outbox import outbox_update, with_outbox
from studio.domain.community import TopicChange, Uncount

Doc = dict[str, Any]
HIDE = {"outbox": 0}
HIDE_MAPS = {"outbox": 0, "participants": 0, "repliers": 0, "ratings": 0, "owners": 0, "hidden_posts": 0}
#: Not content of a hidden workshop, in reads and in earning write filters: documents written before the
#: flag existed lack it, and in a write filter ``{$ne: True}`` misses those on this store (``$in`` does not).
#: Every resource and topic carries ``workshop_hidden`` (False at insert; ``ensure_indexes`` gives it to
#: older ones), so the earning writes test plain equality: in nx-27017 a ``$in`` in the filter of the
#: coalesced bulk updates cost about a sixth of the community storm (and ``$ne: True`` does not match
#: a missing field in an update filter).
NOT_WORKSHOP_HIDDEN = {"workshop_hidden": False}

WORKSHOPS = "workshops"
RESOURCES = "resources"
TOPICS = "topics"
POSTS = "posts"
ASSISTANTS = "research_assistants"  # 研修助理, one per school and subject (the _id)
RECOMMENDATIONS = "supervisor_recommendations"  # 督学推荐
#: Collections whose documents carry an outbox (the worker's relay publishes them).
OUTBOX_COLLECTIONS: tuple[str, ...] = (WORKSHOPS, RESOURCES, TOPICS)


def _flags(doc: Doc | None, *names: str) -> Doc | None:
    """Flags written by ``$set`` may come back as 1 from the embedded store: read them as booleans."""
    if doc is not None:
        for name in names:
            if name in doc:
                doc[name] = bool(doc[name])
    return doc


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db[WORKSHOPS].create_index("status", name="status")
    await db[WORKSHOPS].create_index("host_ce_number", name="host")
    await db[RESOURCES].create_index("created_ms", name="created")
    await db[RESOURCES].create_index("workshop_id", name="workshop")
    # The first share of a content earns; a duplicate (same bytes, by anyone) is stored without it.
    await db[RESOURCES].create_index("earning_fingerprint", name="one_earning_share", unique=True, sparse=True)
    await db[RESOURCES].create_index("fingerprint", name="fingerprint")
    await db[TOPICS].create_index("created_ms", name="created")
    await db[TOPICS].create_index("workshop_id", name="workshop")
    await db[POSTS].create_index([("topic_id", 1), ("created_ms", 1)], name="topic")
    await db[ASSISTANTS].create_index("district", name="district")
    await db[RECOMMENDATIONS].create_index("kind", name="kind")


class WorkshopRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[WORKSHOPS]
        self._reader = CoalescingReader(self.collection, HIDE)

    async def add(self, doc: Doc) -> None:
        await self.collection.insert_one(with_outbox(doc, []))

    async def get(self, workshop_id: str) -> Doc | None:
        """Concurrent callers share one read; each gets its own (shallow) copy."""
        return _flags(await self._reader.get(workshop_id), "featured", "active", "hidden")

    async def listing(self, query: Doc, limit: int = 200) -> list[Doc]:
        cursor = self.collection.find(query, HIDE).sort([("featured", -1), ("created_ms", -1)]).limit(limit)
        return [_flags(d, "featured", "active", "hidden") or d async for d in cursor]

    async def write(
        self, workshop_id: str, version: int, update: Doc, entries: list[Doc], extra: Doc | None = None
    ) -> bool:
        """Compare-and-set on the workshop's ``version``: the change and its facts, or nothing."""
        query = {"_id": workshop_id, "version": version, **(extra or {})}
        update = outbox_update({**update, "$inc": {**update.get("$inc", {}), "version": 1}}, entries)
        result = await self.collection.update_one(query, update)
        return result.modified_count == 1


class ResourceRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[RESOURCES]
        self._reader = CoalescingReader(self.collection, HIDE)
        self._inserter = CoalescingInserter(self.collection)
        self._updater = CoalescingUpdater(self.collection)

    async def add(self, doc: Doc, earning_entries: list[Doc]) -> Literal["earns", "duplicate", "hidden"]:
        """Store a share. ``earns``: the first of its content (it carries its fact). ``duplicate``: stored
        without ``earning_fingerprint`` and without the fact, with ``original_id`` (the earning share) and
        its owner noted on the earning share (``owners.<ce>``: nobody rates a copy of their own file).
        ``hidden``: a copy of the content is hidden by moderation; nothing is stored. Simultaneous shares
        go out as one ``insert_many``; of one content in one batch, the unique index admits one."""
        fingerprint = doc["fingerprint"]
        try:
            await self._inserter.insert(
                with_outbox({**doc, "earning_fingerprint": fingerprint, "earns": True}, earning_entries)
            )
            return "earns"
        except DuplicateKeyError:
            pass
        # A copy exists (the earning share at least): only now are the other copies worth a look.
        if await self.collection.find_one({"fingerprint": fingerprint, "hidden": True}, {"_id": 1}):
            return "hidden"
        original = await self.collection.find_one_and_update(
            {"earning_fingerprint": fingerprint},
            {"$set": {f"owners.{doc['owner_ce_number']}": 1}},
            projection={"_id": 1},
        )
        original_id = original["_id"] if original else None
        await self._inserter.insert(with_outbox({**doc, "earns": False, "original_id": original_id}, []))
        return "duplicate"

    async def get(self, resource_id: str) -> Doc | None:
        """Concurrent callers share one read; each gets its own (shallow) copy."""
        return _flags(await self._reader.get(resource_id), "excellent", "hidden", "earns", "workshop_hidden")

    async def listing(self, query: Doc, limit: int = 200) -> list[Doc]:
        cursor = self.collection.find(query, HIDE_MAPS).sort("created_ms", -1).limit(limit)
        return [_flags(d, "excellent", "hidden", "earns", "workshop_hidden") or d async for d in cursor]

    async def rate(
        self,
        resource_id: str,
        ce_number: str,
        stars: int,
        seen: Doc,
        previous: int | None,
        update: Doc,
        entries: list[Doc],
    ) -> bool:
        """Set the rating if the counters are still those read (``seen``): compare-and-set on count, sum and
        the excellent flag, so the write that crosses the line is exactly one; never on hidden content
        (its own flag or its workshop's), never by a teacher who shared the same file (``owners``)."""
        query: Doc = {
            "_id": resource_id,
            "hidden": False,
            **NOT_WORKSHOP_HIDDEN,
            "rating_count": seen["rating_count"],
            "rating_sum": seen["rating_sum"],
            "excellent": seen["excellent"],
            f"owners.{ce_number}": {"$exists": False},
        }
        query[f"ratings.{ce_number}"] = previous if previous is not None else {"$exists": False}
        return await self._updater.update(query, outbox_update(update, entries))

    async def set_hidden(self, resource_id: str, hidden: bool) -> bool:
        result = await self.collection.update_one({"_id": resource_id}, {"$set": {"hidden": hidden}})
        return result.matched_count == 1

    async def set_workshop_hidden(self, workshop_id: str, hidden: bool) -> None:
        await self.collection.update_many({"workshop_id": workshop_id}, {"$set": {"workshop_hidden": hidden}})


class TopicRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[TOPICS]
        self._reader = CoalescingReader(self.collection, HIDE)
        self._inserter = CoalescingInserter(self.collection)
        self._updater = CoalescingUpdater(self.collection)

    async def add(self, doc: Doc) -> None:
        await self._inserter.insert(with_outbox(doc, []))

    async def get(self, topic_id: str) -> Doc | None:
        """Concurrent callers share one read; each gets its own (shallow) copy."""
        return _flags(await self._reader.get(topic_id), "discussed", "popular", "hidden", "workshop_hidden")

    async def listing(self, query: Doc, limit: int = 200) -> list[Doc]:
        cursor = self.collection.find(query, HIDE_MAPS).sort("created_ms", -1).limit(limit)
        return [_flags(d, "discussed", "popular", "hidden", "workshop_hidden") or d async for d in cursor]

    async def count_post(
        self,
        topic_id: str,
        ce_number: str,
        change: TopicChange,
        is_reply: bool,
        guards: Doc,
        flags: Doc,
        entries: list[Doc],
        posts: int = 1,
        shown_again: str | None = None,
    ) -> bool:
        """Count a visible post of a teacher other than the author. Each teacher's entry in
        ``participants`` / ``repliers`` is the number of their visible posts / replies: a new distinct
        participant / replier is ``$set`` to 1 with ``$inc`` of the count only when it was not set (the
        filter), a known one ``$inc``-ed only while it is set (a hidden post may have just taken them
        out), under ``guards`` on the counts (``topic_guards``: the exact count and the unset flag for the
        write that crosses a threshold, which carries the fact; below the line only a range that keeps
        it below), so a threshold is crossed by exactly one write. A write with facts requires the topic
        to be visible (its own flag and its workshop's). ``shown_again``: the id of a hidden post shown
        again (its mark in ``hidden_posts`` must be there and goes). False when the filter did not match
        (read again and retry)."""
        query: Doc = {"_id": topic_id, **guards}
        if entries:
            query.update({"hidden": False, **NOT_WORKSHOP_HIDDEN})
        sets: Doc = dict(flags)
        inc: Doc = {"post_count": posts} if posts else {}  # the post's own count rides on this write
        unset: Doc = {}
        counters = [("participants", "participant_count", change.new_participant)]
        if is_reply:
            counters.append(("repliers", "replier_count", change.new_replier))
        for field, count, new in counters:
            key = f"{field}.{ce_number}"
            query[key] = {"$exists": not new}
            if new:
                sets[key] = 1
                inc[count] = 1
            else:
                inc[key] = 1
        if shown_again is not None:
            query[f"hidden_posts.{shown_again}"] = {"$exists": True}
            unset[f"hidden_posts.{shown_again}"] = ""
        update: Doc = {"$inc": inc}
        if sets:
            update["$set"] = sets
        if unset:
            update["$unset"] = unset
        return await self._updater.update(query, outbox_update(update, entries))

    async def uncount_post(self, topic_id: str, post_id: str, ce_number: str, change: Uncount) -> bool:
        """A post is hidden: its mark ``hidden_posts.<post id>`` (once: the filter wants it absent), one post
        less, and its teacher's entries one less, or gone with the distinct count one less when it was
        their last (compare-and-set on the entries as read). False when the filter did not match."""
        query: Doc = {"_id": topic_id, f"hidden_posts.{post_id}": {"$exists": False}}
        inc: Doc = {"post_count": -1}
        unset: Doc = {}
        for field, count, seen, leaves in (
            ("participants", "participant_count", change.participant, change.participant_leaves),
            ("repliers", "replier_count", change.replier, change.replier_leaves),
        ):
            if seen is None:
                continue
            key = f"{field}.{ce_number}"
            query[key] = seen
            if leaves:
                unset[key] = ""
                inc[count] = -1
            else:
                inc[key] = -1
        update: Doc = {"$set": {f"hidden_posts.{post_id}": 1}, "$inc": inc}
        if unset:
            update["$unset"] = unset
        return await self._updater.update(query, update)

    async def show_uncounted_post(self, topic_id: str, post_id: str) -> bool:
        """A hidden post that counts nowhere (the author's) is shown again: its mark goes, one post more."""
        query = {"_id": topic_id, f"hidden_posts.{post_id}": {"$exists": True}}
        return await self._updater.update(query, {"$unset": {f"hidden_posts.{post_id}": ""}, "$inc": {"post_count": 1}})

    async def bump_posts(self, topic_id: str) -> None:
        await self._updater.update({"_id": topic_id}, {"$inc": {"post_count": 1}})

    async def set_hidden(self, topic_id: str, hidden: bool) -> bool:
        result = await self.collection.update_one({"_id": topic_id}, {"$set": {"hidden": hidden}})
        return result.matched_count == 1

    async def set_workshop_hidden(self, workshop_id: str, hidden: bool) -> None:
        await self.collection.update_many({"workshop_id": workshop_id}, {"$set": {"workshop_hidden": hidden}})


class TopicPostRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[POSTS]
        self._inserter = CoalescingInserter(self.collection)

    async def add(self, doc: Doc) -> None:
        await self._inserter.insert(doc)

    async def get(self, post_id: str) -> Doc | None:
        return _flags(await self.collection.find_one({"_id": post_id}), "hidden")

    async def of_topic(self, topic_id: str, limit: int = 500) -> list[Doc]:
        cursor = self.collection.find({"topic_id": topic_id, "hidden": False}).sort("created_ms", 1).limit(limit)
        return [d async for d in cursor]

    async def set_hidden(self, post_id: str, hidden: bool) -> bool:
        result = await self.collection.update_one({"_id": post_id}, {"$set": {"hidden": hidden}})
        return result.matched_count == 1


class CommunityStatsReader:
    """Counts for the term report, grouped in the store where it can (``$group`` on one field)."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def workshops(self) -> list[Doc]:
        query = {"status": "approved", "hidden": False}
        projection = {"_id": 1, "subject": 1, "participant_count": 1}
        return [d async for d in self.db[WORKSHOPS].find(query, projection)]

    async def per_workshop(self, collection: str) -> dict[str | None, int]:
        """Visible documents of ``collection`` (resources, topics) per workshop id (None: outside any); those
        of a hidden workshop are left out by ``subject_rows`` (their workshop is not among the listed)."""
        pipeline: list[Doc] = [{"$match": {"hidden": False}}, {"$group": {"_id": "$workshop_id", "n": {"$sum": 1}}}]
        return {d["_id"]: int(d["n"]) async for d in await self.db[collection].aggregate(pipeline)}

    async def assignments(self, activities: str, parts: str) -> list[Doc]:
        """Per workshop activity: its workshop, assignments handed in and distinct ones recommended."""
        out = []
        query = {"owner_kind": "workshop"}
        async for act in self.db[activities].find(query, {"_id": 1, "studio_id": 1, "recommendations": 1}):
            submitted = await self.db[parts].count_documents({"activity_id": act["_id"], "part": "assignment"})
            recommended = {r["assignment_id"] for r in (act.get("recommendations") or {}).values()}
            out.append({"workshop_id": act["studio_id"], "submitted": submitted, "recommended": len(recommended)})
        return out

    async def learners(self, activities: str, parts: str, directory: str) -> list[Doc]:
        """Per participant of an approved, visible workshop (hosts left out): district and subject from
        the teacher directory, whether they did a segment, assignments handed in and recommended."""
        people: dict[str, Doc] = {}
        workshops: set[str] = set()
        query = {"status": "approved", "hidden": False}
        async for w in self.db[WORKSHOPS].find(query, {"participants": 1, "host_ce_number": 1}):
            workshops.add(w["_id"])
            for ce in w.get("participants") or {}:
                if ce != w.get("host_ce_number"):
                    people.setdefault(
                        ce, {"ce_number": ce, "studied": False, "assignments": 0, "recommended": 0, "passed": 0}
                    )
        recommended: set[str] = set()
        activity_ids: list[str] = []
        act_query = {"owner_kind": "workshop", "studio_id": {"$in": sorted(workshops)}}
        async for act in self.db[activities].find(act_query, {"_id": 1, "recommendations": 1}):
            activity_ids.append(act["_id"])
            recommended |= {r["assignment_id"] for r in (act.get("recommendations") or {}).values()}
        async for part in self.db[parts].find(
            {"activity_id": {"$in": activity_ids}}, {"ce_number": 1, "part": 1, "passed": 1}
        ):
            person = people.get(part["ce_number"])
            if person is None or part["part"] == "checkin":  # the host, or one who left; a check-in is not study
                continue
            person["studied"] = True
            if part["part"] == "assignment":
                person["assignments"] += 1
                person["recommended"] += part["_id"] in recommended
                person["passed"] += bool(part.get("passed"))  # graded 合格 (the last grade); ungraded: not
        known = {d["_id"]: d async for d in self.db[directory].find({"_id": {"$in": sorted(people)}})}
        for ce, person in people.items():
            teacher = known.get(ce) or {}
            person["district"] = teacher.get("district") or ""
            person["subject"] = teacher.get("subject") or ""
        return list(people.values())


class AssistantRepository:
    """Research assistants: ``_id`` = ``<school_id>:<subject>`` (one per school and subject)."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[ASSISTANTS]

    async def add(self, doc: Doc) -> bool:
        """False when the school and subject have an assistant already."""
        try:
            await self.collection.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def get(self, assistant_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": assistant_id})

    async def add_task(self, assistant_id: str, task_id: str, title: str) -> None:
        await self.collection.update_one(
            {"_id": assistant_id},
            {"$set": {f"tasks.{task_id}": {"title": title, "done": False}}, "$inc": {"assigned": 1}},
        )

    async def complete_task(self, assistant_id: str, task_id: str) -> bool:
        """Once: the filter requires the task not done yet."""
        result = await self.collection.update_one(
            {"_id": assistant_id, f"tasks.{task_id}.done": False},
            {"$set": {f"tasks.{task_id}.done": True}, "$inc": {"completed": 1}},
        )
        return result.modified_count == 1

    async def counts(self, query: Doc) -> list[Doc]:
        return [d async for d in self.collection.find(query, {"district": 1, "assigned": 1, "completed": 1})]


class RecommendationRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[RECOMMENDATIONS]

    async def add(self, doc: Doc) -> None:
        await self.collection.insert_one(doc)

    async def listing(self, query: Doc, limit: int = 1000) -> list[Doc]:
        return [d async for d in self.collection.find(query).sort("created_ms", -1).limit(limit)]
