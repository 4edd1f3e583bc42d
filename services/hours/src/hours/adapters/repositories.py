"""Read copies and simple repositories of the hours service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from hours.adapters.mongo import TEACHERS
from jijiao_kit.projections import upsert_newer

Doc = dict[str, Any]


class Teachers:
    """One document per teacher, kept current from enrollment's roster events (school/district scope)."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.teachers = db[TEACHERS]

    async def upsert(self, ce_number: str, fields: Doc, as_of: datetime) -> bool:
        return await upsert_newer(self.teachers, ce_number, fields, as_of)

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
