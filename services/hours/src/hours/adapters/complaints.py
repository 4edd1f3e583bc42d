"""Complaints about annual verification in the store: one document each; handled once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from hours.adapters.mongo import COMPLAINTS

Doc = dict[str, Any]


class ComplaintRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[COMPLAINTS]

    async def add(self, doc: Doc) -> None:
        await self.collection.insert_one(doc)

    async def get(self, complaint_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": complaint_id})

    async def handle(self, complaint_id: str, fields: Doc) -> Doc | None:
        """Open -> handled once; None when it was not open."""
        return await self.collection.find_one_and_update(
            {"_id": complaint_id, "status": "open"},
            {"$set": {**fields, "status": "handled"}},
            return_document=ReturnDocument.AFTER,
        )

    async def search(self, equal: Mapping[str, Any], *, skip: int, limit: int) -> list[Doc]:
        """A page of the complaints whose fields equal ``equal``, newest first."""
        cursor = self.collection.find(dict(equal)).sort("filed_at", -1).skip(skip).limit(limit)
        return [doc async for doc in cursor]

    async def schools_and_status(self, equal: Mapping[str, Any]) -> list[Doc]:
        """School and status of every complaint whose fields equal ``equal`` (no page limit)."""
        projection = {"school_id": 1, "school_name": 1, "status": 1}
        return [doc async for doc in self.collection.find(dict(equal), projection)]
