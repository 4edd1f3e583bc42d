"""Member evaluations in the store. The 30 % limit is a counter per (studio, period) raised only below
its cap; a grade changes only from the grade it was read with (so a lost race releases its seat)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from jijiao_kit.outbox import outbox_update, with_outbox
from studio.adapters.mongo import EVALUATION_QUOTAS, EVALUATIONS

Doc = dict[str, Any]


class EvaluationRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[EVALUATIONS]
        self.quotas = db[EVALUATION_QUOTAS]

    async def get(self, evaluation_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": evaluation_id}, {"outbox": 0})

    async def of_period(self, studio_id: str, period: str) -> list[Doc]:
        query = {"studio_id": studio_id, "period": period}
        return [d async for d in self.collection.find(query, {"outbox": 0}).sort("ce_number", 1)]

    async def of_member(self, studio_id: str, ce_number: str) -> list[Doc]:
        query = {"studio_id": studio_id, "ce_number": ce_number}
        return [d async for d in self.collection.find(query, {"outbox": 0}).sort("period", 1)]

    async def take_excellent(self, key: str, cap: int) -> bool:
        try:
            await self.quotas.insert_one({"_id": key, "excellent": 0})
        except DuplicateKeyError:
            pass
        result = await self.quotas.update_one({"_id": key, "excellent": {"$lt": cap}}, {"$inc": {"excellent": 1}})
        return result.modified_count == 1

    async def release_excellent(self, key: str) -> None:
        await self.quotas.update_one({"_id": key, "excellent": {"$gt": 0}}, {"$inc": {"excellent": -1}})

    async def write(self, doc: Doc, previous: str | None, entries: list[Doc]) -> bool:
        """Insert the first grade or change it from ``previous``; False when another edit came first."""
        if previous is None:
            try:
                await self.collection.insert_one(with_outbox(doc, entries))
            except DuplicateKeyError:
                return False
            return True
        fields = {k: v for k, v in doc.items() if k != "_id"}
        result = await self.collection.update_one(
            {"_id": doc["_id"], "grade": previous}, outbox_update({"$set": fields}, entries)
        )
        return result.modified_count == 1 or result.matched_count == 1
