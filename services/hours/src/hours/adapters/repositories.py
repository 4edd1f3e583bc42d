"""Read copies and simple repositories of the hours service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from hours.adapters.mongo import TEACHERS
from jijiao_kit.timeutil import epoch_ms

Doc = dict[str, Any]
STAMPS = ("identity_as_of_ms", "placement_as_of_ms")
DUPLICATE_KEY = 11000


class Teachers:
    """One document per teacher, kept current from enrollment's roster events (school/district scope)."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.teachers = db[TEACHERS]

    async def upsert(self, ce_number: str, fields: Doc, as_of: datetime) -> None:
        await self.upsert_many([(ce_number, fields, as_of)])

    async def upsert_many(self, changes: list[tuple[str, Doc, datetime]]) -> None:
        """Apply an event's fields, per aspect, only if newer than what the aspect holds: a transfer that
        arrives before the (older) registration keeps its school, while the registration still brings the
        name. Stamps are epoch milliseconds: an ISO string written by ``$set`` stops comparing with
        ``$lt`` in the embedded store (tests/store_contract), integers compare the same everywhere.

        The guard is ``{_id, <aspect>_as_of_ms: {$lt: stamp}}`` with upsert, and a new document gets the
        other aspect's stamp as 0, so every document holds both stamps. No ``$or``: the embedded store
        translates ``{_id: x, $or: [...]}`` as ``_id = x AND a OR b``, which scans the collection and can
        update another teacher (test_store_forms). A document written before both stamps existed is
        matched on the missing stamp when the guarded upsert meets its key (see ``_after_conflict``)."""
        plan: list[tuple[str, str, int, Doc]] = []  # teacher, stamp key, stamp, values
        for ce_number, fields, as_of in changes:
            aspects: dict[str, Doc] = {
                "identity": {k: fields[k] for k in ("name",) if k in fields},
                "placement": {k: fields[k] for k in ("school_id", "school_name", "district") if k in fields},
            }
            stamp = epoch_ms(as_of)
            for aspect, values in aspects.items():
                if values:
                    plan.append((ce_number, f"{aspect}_as_of_ms", stamp, values))
        await self._apply(plan)

    async def _apply(self, plan: list[tuple[str, str, int, Doc]]) -> None:
        """Ordered, so two changes of one teacher in a batch apply in event order. A duplicate key means the
        teacher exists and its aspect is not older: it holds a newer state (nothing to do) or no stamp at all
        (written before both stamps existed: the change applies on the missing stamp). An ordered bulk stops
        at the first error; the writes after it go again."""
        while plan:
            writes = [
                UpdateOne(
                    {"_id": ce_number, key: {"$lt": stamp}},
                    {"$set": {**values, key: stamp}, "$setOnInsert": {other: 0 for other in STAMPS if other != key}},
                    upsert=True,
                )
                for ce_number, key, stamp, values in plan
            ]
            try:
                await self.teachers.bulk_write(writes, ordered=True)
                return
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if not errors or any(error.get("code") != DUPLICATE_KEY for error in errors):
                    raise
                failed_at = errors[0]["index"]
            ce_number, key, stamp, values = plan[failed_at]
            await self.teachers.update_one(
                {"_id": ce_number, key: {"$exists": False}}, {"$set": {**values, key: stamp}}
            )
            plan = plan[failed_at + 1 :]

    async def get(self, ce_number: str) -> Doc | None:
        return await self.teachers.find_one({"_id": ce_number})

    async def in_scope(self, *, school_id: str | None = None, district: str | None = None) -> list[Doc]:
        query: Doc = {}
        if school_id:
            query["school_id"] = school_id
        if district:
            query["district"] = district
        return [doc async for doc in self.teachers.find(query).sort("_id", 1)]

    async def names(self, ce_numbers: list[str]) -> dict[str, Doc]:
        if not ce_numbers:
            return {}
        return {doc["_id"]: doc async for doc in self.teachers.find({"_id": {"$in": ce_numbers}})}
