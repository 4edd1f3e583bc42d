"""Read copies and simple repositories of the hours service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hours.adapters.mongo import TEACHERS

Doc = dict[str, Any]


class Teachers:
    """One document per teacher, kept current from enrollment's roster events (school/district scope)."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.teachers = db[TEACHERS]

    async def upsert(self, ce_number: str, fields: Doc, as_of: datetime) -> None:
        """Apply an event's fields, per aspect, only if newer than what the aspect holds: a transfer that
        arrives before the (older) registration keeps its school, while the registration still brings the
        name. Stamps are UTC ISO strings (they compare in time order; the store returns bare datetimes
        set by ``$set`` as strings)."""
        aspects: dict[str, Doc] = {
            "identity": {k: fields[k] for k in ("name",) if k in fields},
            "placement": {k: fields[k] for k in ("school_id", "school_name", "district") if k in fields},
        }
        stamp = (
            (as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)).astimezone(UTC).isoformat(timespec="microseconds")
        )
        for aspect, values in aspects.items():
            if not values:
                continue
            key = f"{aspect}_as_of"
            try:
                await self.teachers.update_one(
                    {"_id": ce_number, "$or": [{key: {"$lt": stamp}}, {key: {"$exists": False}}]},
                    {"$set": {**values, key: stamp}},
                    upsert=True,
                )
            except DuplicateKeyError:
                pass  # the teacher exists with a newer state of this aspect

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
