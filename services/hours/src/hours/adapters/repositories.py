"""Read copies and simple repositories of the hours service."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from hours.adapters.mongo import TEACHERS
from jijiao_kit.projections import TeacherDirectory

Doc = dict[str, Any]


class Teachers(TeacherDirectory):
    """One document per teacher, kept current from enrollment's roster events (the kit's teacher
    directory: name, school and status, each part on a stamp of its own; school/district scope)."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        super().__init__(db[TEACHERS], profile=("name",))
        self.teachers = self.collection

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
