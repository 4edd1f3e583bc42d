"""Stages, activities and what participants did (one document per part done: exactly once by ``_id``)."""

from __future__ import annotations

from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from jijiao_kit.coalescing import CoalescingInserter, by_id
from jijiao_kit.outbox import outbox_update, with_outbox
from studio.adapters.mongo import ACTIVITIES, PARTS, STAGES

Doc = dict[str, Any]
HIDE = {"outbox": 0}


def _read(doc: Doc | None) -> Doc | None:
    """Flags written by ``$set`` may come back as 1 from the embedded store: read them as booleans."""
    if doc is not None and "organised" in doc:
        doc["organised"] = bool(doc["organised"])
    return doc


class StageRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[STAGES]

    async def add(self, doc: Doc) -> None:
        await self.collection.insert_one(doc)

    async def get(self, studio_id: str, stage_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": stage_id, "studio_id": studio_id})

    async def of_studio(self, studio_id: str) -> list[Doc]:
        return [d async for d in self.collection.find({"studio_id": studio_id}).sort([("order", 1), ("_id", 1)])]

    async def update(self, studio_id: str, stage_id: str, fields: Doc) -> bool:
        result = await self.collection.update_one({"_id": stage_id, "studio_id": studio_id}, {"$set": fields})
        return result.matched_count == 1

    async def delete(self, studio_id: str, stage_id: str) -> bool:
        result = await self.collection.delete_one({"_id": stage_id, "studio_id": studio_id})
        return result.deleted_count == 1

    async def reorder(self, studio_id: str, ids: list[str]) -> None:
        ops = [UpdateOne({"_id": i, "studio_id": studio_id}, {"$set": {"order": n}}) for n, i in enumerate(ids)]
        if ops:
            await self.collection.bulk_write(ops)


class ActivityRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[ACTIVITIES]
        self._by_id = by_id(self.collection, HIDE)

    async def add(self, doc: Doc, entries: list[Doc] | None = None) -> None:
        await self.collection.insert_one(with_outbox(doc, entries or []))

    async def add_event(
        self, owner_id: str, activity_id: str, fields: Doc, entries: list[Doc], expect: Doc | None = None
    ) -> bool:
        """Set ``fields`` (e.g. a new keyed sub-document) together with their events, in one write; with
        ``expect``, only while the activity still has those values (compare-and-set)."""
        query = {"_id": activity_id, "studio_id": owner_id, **(expect or {})}
        update: Doc = {"$set": fields}
        if expect and "revision" in expect:
            update["$inc"] = {"revision": 1}
        result = await self.collection.update_one(query, outbox_update(update, entries))
        return result.modified_count == 1

    async def get(self, studio_id: str, activity_id: str) -> Doc | None:
        """Concurrent callers share one read (group commit); another studio's activity is not found."""
        found = [doc for doc in await self._by_id.find(activity_id) if doc.get("studio_id") == studio_id]
        return _read(found[0]) if found else None

    async def by_id(self, activity_id: str) -> Doc | None:
        return _read(await self.collection.find_one({"_id": activity_id}, HIDE))

    async def of_studio(self, studio_id: str, *, published_only: bool, stage_id: str | None = None) -> list[Doc]:
        query: Doc = {"studio_id": studio_id}
        if published_only:
            query["status"] = "published"
        if stage_id:
            query["stage_id"] = stage_id
        return [_read(d) or d async for d in self.collection.find(query, HIDE).sort([("order", 1), ("starts_ms", 1)])]

    async def count(self, query: Doc) -> int:
        return await self.collection.count_documents(query)

    async def update_unorganised(
        self,
        studio_id: str,
        activity_id: str,
        fields: Doc,
        entries: list[Doc] | None = None,
        *,
        status: str | None = None,
    ) -> bool:
        """Change an activity that is not organised yet (optionally only in ``status``)."""
        query: Doc = {"_id": activity_id, "studio_id": studio_id, "organised": False}
        if status:
            query["status"] = status
        result = await self.collection.update_one(query, outbox_update({"$set": fields}, entries or []))
        return result.modified_count == 1

    async def delete_unorganised(self, studio_id: str, activity_id: str) -> bool:
        result = await self.collection.delete_one({"_id": activity_id, "studio_id": studio_id, "organised": False})
        return result.deleted_count == 1

    async def reorder(self, studio_id: str, ids: list[str]) -> None:
        ops = [UpdateOne({"_id": i, "studio_id": studio_id}, {"$set": {"order": n}}) for n, i in enumerate(ids)]
        if ops:
            await self.collection.bulk_write(ops)

    async def summary_due(self, now_ms: int, limit: int = 200) -> list[Doc]:
        """Studio activities that ended without a summary and whose host was not reminded (a workshop's
        host is not: the reminder names a studio)."""
        query = {
            "status": "published",
            "organised": False,
            "ends_ms": {"$lte": now_ms},
            "reminded_ms": None,
            "owner_kind": {"$ne": "workshop"},
        }
        return [_read(d) or d async for d in self.collection.find(query, HIDE).limit(limit)]

    async def mark_reminded(self, activity_id: str, now_ms: int, entries: list[Doc]) -> bool:
        query = {"_id": activity_id, "organised": False, "reminded_ms": None}
        result = await self.collection.update_one(query, outbox_update({"$set": {"reminded_ms": now_ms}}, entries))
        return result.modified_count == 1

    async def organise(self, studio_id: str, activity_id: str, fields: Doc, entries: list[Doc]) -> bool:
        """Write the summary once, with the hours events of the participants, in one write."""
        query = {"_id": activity_id, "studio_id": studio_id, "status": "published", "organised": False}
        result = await self.collection.update_one(
            query, outbox_update({"$set": {**fields, "organised": True}}, entries)
        )
        return result.modified_count == 1

    async def real_pending(self, before_ms: int, limit: int = 500) -> list[Doc]:
        """Workshop activities organised (with participants) before ``before_ms`` whose count as a real
        activity of their workshop is not confirmed yet (``real_pending_ms`` still set)."""
        query = {"owner_kind": "workshop", "real_pending_ms": {"$lte": before_ms}}
        return [d async for d in self.collection.find(query, {"_id": 1, "studio_id": 1, "title": 1}).limit(limit)]

    async def clear_real_pending(self, activity_id: str) -> None:
        await self.collection.update_one({"_id": activity_id}, {"$unset": {"real_pending_ms": ""}})


class ParticipationRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[PARTS]
        self._inserter = CoalescingInserter(self.collection)

    async def record(self, activity_id: str, ce_number: str, part: str, at_ms: int, extra: Doc | None = None) -> bool:
        """False when this part was done before (the ``_id`` makes it exactly once under any burst)."""
        doc = {
            "_id": f"{activity_id}:{ce_number}:{part}",
            "activity_id": activity_id,
            "ce_number": ce_number,
            "part": part,
            "at_ms": at_ms,
            **(extra or {}),
        }
        try:  # concurrent records share one insert_many (group commit); a duplicate fails alone
            await self._inserter.insert(doc)
        except DuplicateKeyError:
            return False
        return True

    async def count(self, activity_id: str, part: str) -> int:
        return await self.collection.count_documents({"activity_id": activity_id, "part": part})

    async def done_by(self, activity_id: str) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        async for d in self.collection.find({"activity_id": activity_id}, {"ce_number": 1, "part": 1}):
            out.setdefault(d["ce_number"], set()).add(d["part"])
        return out

    async def of_part(self, activity_id: str, part: str) -> list[Doc]:
        return [d async for d in self.collection.find({"activity_id": activity_id, "part": part}).sort("at_ms", 1)]

    async def get(self, activity_id: str, ce_number: str, part: str) -> Doc | None:
        return await self.collection.find_one({"_id": f"{activity_id}:{ce_number}:{part}"})

    async def grade(self, record_id: str, passed: bool, at_ms: int, by: str) -> bool:
        """Grade a handed-in part (an assignment): ``passed`` (read it with ``bool``: the store may give a
        ``$set`` flag back as 1), when and by whom; a later grade replaces it. False when there is none."""
        result = await self.collection.update_one(
            {"_id": record_id}, {"$set": {"passed": passed, "graded_ms": at_ms, "graded_by": by}}
        )
        return result.matched_count == 1


async def checkins_of(parts: ParticipationRepository, ce_number: str, activity_ids: list[str]) -> int:
    """How many of ``activity_ids`` the teacher checked in to."""
    if not activity_ids:
        return 0
    return await parts.collection.count_documents(
        {"activity_id": {"$in": activity_ids}, "part": "checkin", "ce_number": ce_number}
    )


class SubmissionRepository:
    """What participants submit to an activity's parts: shared resources, outputs, discussion posts and
    comments, evaluation answers (one document each)."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        from studio.adapters.mongo import SUBMISSIONS

        self.collection = db[SUBMISSIONS]

    async def add(self, doc: Doc) -> None:
        await self.collection.insert_one(doc)

    async def of_part(self, activity_id: str, part: str, ce_number: str | None = None) -> list[Doc]:
        query: Doc = {"activity_id": activity_id, "part": part}
        if ce_number:
            query["ce_number"] = ce_number
        return [d async for d in self.collection.find(query).sort("created_ms", 1).limit(2000)]
