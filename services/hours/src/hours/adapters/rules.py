"""The per-year rules documents (one per year, as the city admin stored them)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from hours.adapters.mongo import RULES

Doc = dict[str, Any]


class RulesRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[RULES]

    async def get(self, year: int) -> Doc | None:
        """The stored rules of ``year`` (JSON), or None until they are set."""
        doc = await self.collection.find_one({"_id": year})
        return dict(doc["rules"]) if doc else None

    async def put(self, year: int, rules: Doc, by: str, at: str) -> None:
        await self.collection.update_one(
            {"_id": year}, {"$set": {"rules": rules, "updated_by": by, "updated_at": at}}, upsert=True
        )
