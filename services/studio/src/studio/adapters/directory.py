"""The studio service's own copy of the teachers it needs to name (never enrollment's database)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from jijiao_kit.projections import upsert_newer
from studio.adapters.mongo import DIRECTORY


class TeacherDirectory:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.collection = db[DIRECTORY]

    async def record(self, ce_number: str, fields: dict[str, Any], as_of: Any) -> bool:
        return await upsert_newer(self.collection, ce_number, fields, as_of)

    async def get(self, ce_number: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": ce_number})
