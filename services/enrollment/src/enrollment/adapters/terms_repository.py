"""Terms (期) in Mongo: ``_id`` is the term code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from enrollment.adapters.mongo import TERMS
from enrollment.adapters.repositories import _Repository
from jijiao_kit.outbox import outbox_update

Doc = dict[str, Any]


class TermRepository(_Repository):
    collection_name = TERMS

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        super().__init__(db)

    async def list(self, *, year: int | None = None) -> list[Doc]:
        query: Doc = {"year": year} if year else {}
        return [doc async for doc in self.collection.find(query, {"outbox": 0}).sort("_id", -1).limit(100)]

    async def reschedule(self, code: str, fields: Doc, events: Sequence[Doc]) -> bool:
        result = await self.collection.update_one({"_id": code}, outbox_update({"$set": fields}, events))
        return result.matched_count == 1
