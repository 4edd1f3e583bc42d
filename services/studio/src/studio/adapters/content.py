"""Files, posts (resources, articles, achievements), funds and indicators in the store."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from studio.adapters.mongo import FILES, FUNDS, INDICATORS, POSTS

Doc = dict[str, Any]


class _Collection:
    name = ""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[self.name]

    async def add(self, doc: Doc) -> None:
        await self.collection.insert_one(doc)

    async def get(self, query: Doc) -> Doc | None:
        return await self.collection.find_one(query)

    async def find(self, query: Doc, sort: list[tuple[str, int]] | None = None, limit: int = 1000) -> list[Doc]:
        cursor = self.collection.find(query)
        if sort:
            cursor = cursor.sort(sort)
        return [d async for d in cursor.limit(limit)]

    async def update(self, query: Doc, fields: Doc) -> bool:
        result = await self.collection.update_one(query, {"$set": fields})
        return result.matched_count == 1

    async def upsert(self, query: Doc, fields: Doc) -> None:
        await self.collection.update_one(query, {"$set": fields}, upsert=True)

    async def delete(self, query: Doc) -> bool:
        result = await self.collection.delete_one(query)
        return result.deleted_count == 1

    async def count(self, query: Doc) -> int:
        return await self.collection.count_documents(query)


class FileRepository(_Collection):
    name = FILES


class PostRepository(_Collection):
    name = POSTS


class FundsRepository(_Collection):
    name = FUNDS


class IndicatorRepository(_Collection):
    name = INDICATORS
