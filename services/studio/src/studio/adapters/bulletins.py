"""Bulletins in the store: the one-of limits are a unique ``slot`` and a counter on the studio."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from studio.adapters.mongo import BULLETINS, STUDIOS

Doc = dict[str, Any]


class BulletinRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[BULLETINS]
        self.studios = db[STUDIOS]

    async def add(self, doc: Doc) -> bool:
        """False when the slot (the regulation, a year's annual plan) is taken."""
        try:
            await self.collection.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def take_annual(self, studio_id: str, cap: int) -> bool:
        result = await self.studios.update_one(
            {"_id": studio_id, "annual_plans": {"$lt": cap}}, {"$inc": {"annual_plans": 1}}
        )
        return result.modified_count == 1

    async def release_annual(self, studio_id: str) -> None:
        await self.studios.update_one({"_id": studio_id, "annual_plans": {"$gt": 0}}, {"$inc": {"annual_plans": -1}})

    async def get(self, studio_id: str, bulletin_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": bulletin_id, "studio_id": studio_id})

    async def of_studio(self, studio_id: str, kind: str | None, published_only: bool) -> list[Doc]:
        query: Doc = {"studio_id": studio_id}
        if kind:
            query["kind"] = kind
        if published_only:
            query["status"] = "published"
        return [d async for d in self.collection.find(query).sort("created_ms", -1)]

    async def update_if(self, studio_id: str, bulletin_id: str, status: str | None, fields: Doc) -> bool:
        query: Doc = {"_id": bulletin_id, "studio_id": studio_id}
        if status:
            query["status"] = status
        result = await self.collection.update_one(query, {"$set": fields})
        return result.modified_count == 1 or result.matched_count == 1

    async def delete_if(self, studio_id: str, bulletin_id: str, status: str | None) -> bool:
        query: Doc = {"_id": bulletin_id, "studio_id": studio_id}
        if status:
            query["status"] = status
        result = await self.collection.delete_one(query)
        return result.deleted_count == 1
