"""Mongo repositories of notify. Every multi-step invariant is a single conditional write."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from jijiao_kit.outbox import OUTBOX, PENDING
from jijiao_kit.projections import Change, TeacherDirectory, upsert_newer, upsert_newer_many
from notify.adapters.mongo import CONTACTS, MESSAGES, OUTCOME_RECORDS, TERMS, VERIFICATIONS
from notify.domain.schedule import epoch

Doc = dict[str, Any]
HIDDEN = {OUTBOX: 0, PENDING: 0, "send": 0}
DUPLICATE_KEY = 11000
STATUSES = ("pending", "sending", "sent", "failed", "suppressed")
#: What a teacher's contact keeps of the teacher's profile.
TEACHER_PROFILE = ("name", "mobile", "email")


def teacher_key(ce_number: str) -> str:
    return f"teacher:{ce_number}"


def teacher_constant(ce_number: str) -> Doc:
    """Written with every part of a teacher's contact (the same values every time)."""
    return {"kind": "teacher", "ce_number": ce_number}


class Contacts:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[CONTACTS]
        #: Teachers' contacts: the kit's teacher directory inside the contact book (``teacher:<number>``).
        self.teachers = TeacherDirectory(
            self.collection, profile=TEACHER_PROFILE, key=teacher_key, constant=teacher_constant
        )

    async def upsert(self, key: str, fields: Doc, as_of: datetime) -> bool:
        return await upsert_newer(self.collection, key, fields, as_of)

    async def upsert_part(self, key: str, part: str, fields: Doc, as_of: datetime) -> bool:
        """``upsert`` of one part of a contact that changes on its own (an administrator's ``profile``:
        name and email; their ``mobile``; a teacher's ``special`` flag; a teacher's profile, school and
        status come through ``teachers``), ordered by ``occurred_at`` on that part's own stamp, so events
        that change different parts apply in any order (``jijiao_kit.projections``)."""
        return await upsert_newer(self.collection, key, fields, as_of, part=part)

    async def upsert_part_many(self, part: str, items: Sequence[tuple[str, Doc, datetime]]) -> None:
        """``upsert_part`` for many contacts at once (a payment deadline flags a whole city): bulk writes,
        the same outcome as one by one."""
        await upsert_newer_many(self.collection, [Change(key, fields, as_of, part) for key, fields, as_of in items])

    async def set_fields(self, key: str, fields: Doc) -> None:
        """Fields only this service writes (opt-outs, archive flag): not ordered by event time."""
        await self.collection.update_one({"_id": key}, {"$set": fields}, upsert=True)

    async def get(self, key: str) -> Doc | None:
        return await self.collection.find_one({"_id": key})

    async def school_admins(self, school_id: str) -> list[Doc]:
        cursor = self.collection.find({"school_id": school_id, "is_school_admin": True})
        return [doc async for doc in cursor]

    async def get_many(self, keys: Sequence[str]) -> dict[str, Doc]:
        if not keys:
            return {}
        return {doc["_id"]: doc async for doc in self.collection.find({"_id": {"$in": list(set(keys))}})}

    async def school_admins_of(self, school_ids: Sequence[str]) -> list[Doc]:
        if not school_ids:
            return []
        cursor = self.collection.find({"school_id": {"$in": list(set(school_ids))}, "is_school_admin": True})
        return [doc async for doc in cursor]

    async def active_teachers(self, batch_size: int = 1000) -> Any:
        cursor = self.collection.find({"kind": "teacher", "active": True}).batch_size(batch_size)
        async for doc in cursor:
            yield doc

    async def teachers_who_can_select(self, batch_size: int = 1000) -> Any:
        """Active teachers who are not special users (§1: a special user cannot select courses). The
        flag is read in Python: a boolean written by ``$set`` may come back from the store as ``1``."""
        async for doc in self.active_teachers(batch_size):
            if not bool(doc.get("special")):
                yield doc


def _pending(doc: Doc, now: datetime, not_before: datetime) -> Doc:
    """The update that gives a claimed notice back: urgent ones due ``now``, the others at ``not_before``."""
    urgent = bool(doc.get("urgent"))
    return {
        "$set": {
            "status": "pending",
            "due_ts": epoch(now) if urgent else epoch(not_before),
            "next_attempt_at": now if urgent else not_before,
            "given_back": True,  # its sender may have sent it: the provider is asked before sending again
        }
    }


class Messages:
    """Notices. ``_id`` is the idempotency key (cause event id + recipient + channel)."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[MESSAGES]

    async def create(self, message: Doc) -> bool:
        """Insert a new notice; False if one with the same idempotency key exists already."""
        try:
            await self.collection.insert_one(message)
        except DuplicateKeyError:
            return False
        return True

    async def create_many(self, messages: Sequence[Doc]) -> int:
        if not messages:
            return 0
        try:
            result = await self.collection.insert_many(list(messages), ordered=False)
            return len(result.inserted_ids)
        except BulkWriteError as exc:  # duplicates of an earlier run of the same cause
            return int(exc.details.get("nInserted", 0))

    async def insert_new(self, messages: Sequence[Doc]) -> list[Doc]:
        """Insert in one unordered request; returns the notices that were new (an existing key is a
        notice of a cause handled before and stays as it is)."""
        if not messages:
            return []
        try:
            await self.collection.insert_many(list(messages), ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise
            existing = {error["index"] for error in errors}
            return [doc for index, doc in enumerate(messages) if index not in existing]
        return list(messages)

    async def get(self, key: str) -> Doc | None:
        return await self.collection.find_one({"_id": key}, HIDDEN)

    async def due_ids(self, now: datetime, limit: int) -> list[str]:
        """Pending notices whose time has come, oldest first. One plain condition (an ``$or`` made the
        embedded store pass over the collection); the single-field ``status`` index selects the few."""
        query = {"status": "pending", "due_ts": {"$lte": epoch(now)}}
        cursor = self.collection.find(query, {"_id": 1}).sort("due_ts", 1).limit(limit)
        return [doc["_id"] async for doc in cursor]

    async def release_stale(self, now: datetime, limit: int, not_before: datetime | None = None) -> int:
        """Notices claimed by a sender that died (lease over) become pending again: urgent ones due
        ``now``, the others due at ``not_before`` (the end of quiet hours when released in them)."""
        stamp = epoch(now)
        cursor = self.collection.find(
            {"status": "sending", "lease_ts": {"$lte": stamp}}, {"_id": 1, "urgent": 1}
        ).limit(limit)
        released = 0
        for doc in [doc async for doc in cursor]:
            result = await self.collection.update_one(
                {"_id": doc["_id"], "status": "sending", "lease_ts": {"$lte": stamp}},
                _pending(doc, now, not_before or now),
            )
            released += result.modified_count
        return released

    async def sending(self, limit: int) -> list[Doc]:
        """Notices being sent, with their holder and lease (``jijiao_kit.liveness``)."""
        cursor = self.collection.find({"status": "sending"}, {"holder": 1, "lease_ts": 1, "urgent": 1}).limit(limit)
        return [doc async for doc in cursor]

    async def release_claims(self, docs: Sequence[Doc], now: datetime, not_before: datetime | None = None) -> int:
        """Give back claims read by ``sending`` (pending; urgent ones due ``now``, the others at
        ``not_before``), each only if it is still the claim read: same holder, same lease."""
        if not docs:
            return 0
        result = await self.collection.bulk_write(
            [
                UpdateOne(
                    {"_id": doc["_id"], "status": "sending", "holder": doc["holder"], "lease_ts": doc["lease_ts"]},
                    _pending(doc, now, not_before or now),
                )
                for doc in docs
            ],
            ordered=False,
        )
        return result.modified_count

    async def claim(self, key: str, now: datetime, lease_until: datetime, holder: str | None = None) -> Doc | None:
        """Take one due notice for sending; None if another sender has it (or it is not due). ``holder``:
        the sender's heartbeat (``jijiao_kit.liveness``), if it has one."""
        return await self.collection.find_one_and_update(
            {"_id": key, "status": "pending", "due_ts": {"$lte": epoch(now)}},
            {"$set": {"status": "sending", "lease_ts": epoch(lease_until), "updated_at": now, "holder": holder}},
            projection={OUTBOX: 0},
            return_document=ReturnDocument.AFTER,
        )

    async def claim_many(
        self, keys: Sequence[str], now: datetime, lease_until: datetime, holder: str | None = None
    ) -> list[Doc]:
        """``claim`` for many notices in one bulk write of conditional updates; each taken one carries
        this call's claim token, so the read that follows returns exactly the notices taken here."""
        token = uuid.uuid4().hex
        claim = {
            "$set": {
                "status": "sending",
                "lease_ts": epoch(lease_until),
                "updated_at": now,
                "claim": token,
                "holder": holder,
            }
        }
        stamp = epoch(now)
        keys = list(dict.fromkeys(keys))
        result = await self.collection.bulk_write(
            [UpdateOne({"_id": key, "status": "pending", "due_ts": {"$lte": stamp}}, claim) for key in keys],
            ordered=False,
        )
        if result.modified_count == 0:
            return []
        cursor = self.collection.find({"_id": {"$in": keys}, "claim": token}, {OUTBOX: 0})
        return [doc async for doc in cursor]

    async def release_claimed(self, docs: Sequence[Doc], now: datetime, not_before: datetime | None = None) -> int:
        """Give claimed notices back (pending; urgent ones due now, the others at ``not_before``, the
        end of quiet hours when given back in them), each only if its claim is still this one."""
        if not docs:
            return 0
        later = epoch(not_before) if not_before is not None else epoch(now)
        result = await self.collection.bulk_write(
            [
                UpdateOne(
                    {"_id": doc["_id"], "status": "sending", "claim": doc["claim"]},
                    {"$set": {"status": "pending", "due_ts": epoch(now) if doc.get("urgent") else later}},
                )
                for doc in docs
            ],
            ordered=False,
        )
        return result.modified_count

    async def finish_many(self, updates: Sequence[tuple[str, Doc]]) -> int:
        """``finish`` for many claimed notices in one bulk write (each update with its own outbox entry)."""
        if not updates:
            return 0
        result = await self.collection.bulk_write(
            [UpdateOne({"_id": key, "status": "sending"}, update) for key, update in updates], ordered=False
        )
        return result.modified_count

    async def finished_by(self, keys: Sequence[str], record_id: str) -> set[str]:
        """The notices among ``keys`` whose finishing write carried ``record_id`` (see ``OutcomeRecords``)."""
        if not keys:
            return set()
        cursor = self.collection.find({"_id": {"$in": list(keys)}, "finished_by": record_id}, {"_id": 1})
        return {doc["_id"] async for doc in cursor}

    async def finish(self, key: str, update: Doc) -> bool:
        result = await self.collection.update_one({"_id": key, "status": "sending"}, update)
        return result.modified_count == 1

    async def list_where(self, query: Doc, scope: Doc, limit: int = 100) -> list[Doc]:
        """Notices matching ``query`` (``to`` and/or ``subject``) that ``scope`` admits, newest first. By
        ``subject`` there is no index (an admin's look-up; an index would cost every notice's insert)."""
        cursor = self.collection.find({**query, **scope}, HIDDEN).sort("created_at", -1).limit(limit)
        return [doc async for doc in cursor]

    async def readable(self, ids: Sequence[str], scope: Doc) -> set[str]:
        """Those of ``ids`` that ``scope`` admits."""
        return {doc["_id"] async for doc in self.collection.find({"_id": {"$in": list(ids)}, **scope}, {"_id": 1})}

    async def readable_heads(self, ids: Sequence[str], scope: Doc) -> dict[str, Doc]:
        """Those of ``ids`` that ``scope`` admits, each with its ``template`` and ``subject``."""
        query = {"_id": {"$in": list(ids)}, **scope}
        return {doc["_id"]: doc async for doc in self.collection.find(query, {"template": 1, "subject": 1})}

    async def stats(self, since_day: str, until_day: str, scope: Doc) -> list[Doc]:
        """Counts per ``stat_key`` (``day|template|channel``, fixed at creation) and status. One-field
        group keys and ``$cond`` on ``$eq``: the forms the embedded store handles like MongoDB."""
        group: Doc = {"_id": "$stat_key", "total": {"$sum": 1}, "segments": {"$sum": "$segments"}}
        for status in STATUSES:
            group[status] = {"$sum": {"$cond": [{"$eq": ["$status", status]}, 1, 0]}}
        pipeline: list[Doc] = [
            {"$match": {"day": {"$gte": since_day, "$lte": until_day}, **scope}},
            {"$group": group},
        ]
        return [doc async for doc in await self.collection.aggregate(pipeline)]


class OutcomeRecords:
    """The events of a batch of finished notices, written in one document before the notices' own
    finishing writes (DESIGN.md rule 1: the event record written first). Deleted once published."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[OUTCOME_RECORDS]

    async def insert(self, record: Doc) -> None:
        await self.collection.insert_one(record)

    async def delete(self, record_id: str) -> None:
        await self.collection.delete_one({"_id": record_id})

    async def older_than(self, created_ts: float, limit: int) -> list[Doc]:
        cursor = self.collection.find({"created_ts": {"$lt": created_ts}}).sort("created_ts", 1).limit(limit)
        return [doc async for doc in cursor]

    async def of_holders(self, holders: Collection[str], limit: int) -> list[Doc]:
        """Records written by these holders (senders whose heartbeat is gone), oldest first."""
        if not holders:
            return []
        query = {"holder": {"$in": sorted(holders)}}
        return [doc async for doc in self.collection.find(query).sort("created_ts", 1).limit(limit)]

    async def holders_other_than(self, holder: str | None) -> set[str]:
        """The holders named by records left (not yet published and deleted) other than ``holder``."""
        query: Doc = {"holder": {"$ne": holder}} if holder else {}
        return {doc["holder"] async for doc in self.collection.find(query, {"holder": 1}) if doc.get("holder")}


class Verifications:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[VERIFICATIONS]

    async def create(self, doc: Doc) -> None:
        await self.collection.insert_one(doc)

    async def get(self, key: str) -> Doc | None:
        return await self.collection.find_one({"_id": key})

    async def count_wrong(self, key: str, max_wrong: int) -> Doc | None:
        """One more wrong try, only while the code is alive and under the limit; returns the new state."""
        return await self.collection.find_one_and_update(
            {"_id": key, "status": "active", "wrong_attempts": {"$lt": max_wrong}},
            {"$inc": {"wrong_attempts": 1}},
            return_document=ReturnDocument.AFTER,
        )

    async def kill(self, key: str, at: datetime) -> None:
        await self.collection.update_one({"_id": key, "status": "active"}, {"$set": {"status": "dead", "died_at": at}})

    async def use(self, key: str, now: datetime, max_wrong: int) -> bool:
        """Spend the code: the one conditional write that lets exactly one check mint a token."""
        result = await self.collection.update_one(
            {"_id": key, "status": "active", "wrong_attempts": {"$lt": max_wrong}, "expires_ts": {"$gt": epoch(now)}},
            {"$set": {"status": "used", "used_at": now}},
        )
        return result.modified_count == 1


class Terms:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[TERMS]

    async def upsert(self, term: str, fields: Doc, as_of: datetime) -> bool:
        return await upsert_newer(self.collection, term, fields, as_of)

    async def all(self) -> list[Doc]:
        return [doc async for doc in self.collection.find({})]

    async def mark_reminded(self, term: str, reminder: str, cause: str) -> bool:
        result = await self.collection.update_one(
            {"_id": term, f"reminded.{reminder}": {"$ne": cause}}, {"$set": {f"reminded.{reminder}": cause}}
        )
        return result.modified_count == 1
