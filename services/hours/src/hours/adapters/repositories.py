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
        ``$lt`` in the embedded store (tests/store_contract), integers compare the same everywhere."""
        writes: list[UpdateOne] = []
        for ce_number, fields, as_of in changes:
            aspects: dict[str, Doc] = {
                "identity": {k: fields[k] for k in ("name",) if k in fields},
                "placement": {k: fields[k] for k in ("school_id", "school_name", "district") if k in fields},
            }
            stamp = epoch_ms(as_of)
            for aspect, values in aspects.items():
                if values:
                    key = f"{aspect}_as_of_ms"
                    writes.append(
                        UpdateOne(
                            {"_id": ce_number, "$or": [{key: {"$lt": stamp}}, {key: {"$exists": False}}]},
                            {"$set": {**values, key: stamp}},
                            upsert=True,
                        )
                    )
        if not writes:
            return
        try:  # ordered: two changes of one teacher in a batch apply in event order
            await self.teachers.bulk_write(writes, ordered=True)
        except BulkWriteError as exc:
            await self._after_conflict(exc, writes)

    async def _after_conflict(self, exc: BulkWriteError, writes: list[UpdateOne]) -> None:
        """A duplicate key means the teacher holds a newer state of that aspect: nothing to do. An ordered
        bulk stops at the first error, so the writes after it are retried."""
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != 11000 for error in errors):
            raise exc
        failed_at = errors[0]["index"] if errors else len(writes)
        rest = writes[failed_at + 1 :]
        if rest:
            try:
                await self.teachers.bulk_write(rest, ordered=True)
            except BulkWriteError as again:
                await self._after_conflict(again, rest)

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
