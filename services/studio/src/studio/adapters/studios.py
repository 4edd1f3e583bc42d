"""Studios in the store (counters of members and online students are the store-enforced quotas)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from studio.adapters.coalescing import by_id
from studio.adapters.mongo import STUDIOS

Doc = dict[str, Any]


class StudioRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[STUDIOS]
        self._by_id = by_id(self.collection)

    async def add(self, studio: Doc) -> None:
        await self.collection.insert_one(studio)

    async def get(self, studio_id: str) -> Doc | None:
        """Concurrent callers share one read (group commit, ``adapters/coalescing.py``)."""
        found = await self._by_id.find(studio_id)
        return found[0] if found else None

    async def many(self, ids: list[str]) -> list[Doc]:
        return [doc async for doc in self.collection.find({"_id": {"$in": ids}})]

    async def hosted_by(self, ce_number: str) -> list[Doc]:
        return [doc async for doc in self.collection.find({"host_ce_number": ce_number}).sort("name", 1)]

    async def listing(self, query: Doc, limit: int = 500) -> list[Doc]:
        return [doc async for doc in self.collection.find(query).sort("name", 1).limit(limit)]

    async def of_cycle(self, cycle_start_year: int) -> list[Doc]:
        return [doc async for doc in self.collection.find({"cycle_start_year": cycle_start_year}).sort("name", 1)]

    async def set_host(self, studio_id: str, fields: Doc) -> bool:
        result = await self.collection.update_one({"_id": studio_id}, {"$set": fields})
        return result.matched_count == 1

    async def take_seat(self, studio_id: str, counter: str, cap: int) -> bool:
        """Raise ``counter`` by one unless it reached ``cap``: the quota, under any concurrency."""
        result = await self.collection.update_one({"_id": studio_id, counter: {"$lt": cap}}, {"$inc": {counter: 1}})
        return result.modified_count == 1

    async def release_seat(self, studio_id: str, counter: str) -> None:
        await self.collection.update_one({"_id": studio_id, counter: {"$gt": 0}}, {"$inc": {counter: -1}})
