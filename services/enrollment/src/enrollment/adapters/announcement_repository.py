"""Announcements (公告): one document each, with the author's level and scope and a flag per audience."""

from __future__ import annotations

from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from enrollment.adapters.mongo import ANNOUNCEMENTS

Doc = dict[str, Any]


class AnnouncementRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection: AsyncCollection[Doc] = db[ANNOUNCEMENTS]

    async def insert(self, doc: Doc) -> None:
        await self.collection.insert_one(doc)

    async def get(self, announcement_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": announcement_id})

    async def page(self, alternatives: list[Doc], *, skip: int, limit: int) -> list[Doc]:
        query: Doc = {"status": "published"}
        if alternatives:
            query["$or"] = alternatives
        cursor = self.collection.find(query).sort("published_ms", DESCENDING).skip(skip).limit(limit)
        return [doc async for doc in cursor]

    async def withdraw(self, announcement_id: str, fields: Doc) -> bool:
        result = await self.collection.update_one(
            {"_id": announcement_id, "status": "published"}, {"$set": {"status": "withdrawn", **fields}}
        )
        return result.modified_count == 1
