"""Special-project applications: one document per term x course x teacher (``_id``); every review
step is a conditional update on the status it expects, so two reviewers never both decide."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from enrollment.adapters.mongo import SPECIAL_APPLICATIONS
from enrollment.adapters.repositories import _Repository

Doc = dict[str, Any]


class ApplicationRepository(_Repository):
    collection_name = SPECIAL_APPLICATIONS

    async def add_once(self, doc: Doc) -> bool:
        try:
            await self.collection.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def move(self, application_id: str, expected: str, fields: Doc) -> bool:
        result = await self.collection.update_one({"_id": application_id, "status": expected}, {"$set": fields})
        return result.modified_count == 1

    async def find_many(self, query: Doc, *, limit: int = 1000) -> list[Doc]:
        cursor = self.collection.find(query).sort([("applied_at", ASCENDING)]).limit(limit)
        return [doc async for doc in cursor]
