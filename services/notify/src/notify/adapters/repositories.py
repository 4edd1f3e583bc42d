from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from jijiao_kit.projections import upsert_newer
from notify.adapters.mongo import CONTACTS, MESSAGES

Doc = dict[str, Any]


class Contacts:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[CONTACTS]

    async def upsert(self, key: str, fields: Doc, as_of: Any) -> bool:
        return await upsert_newer(self.collection, key, fields, as_of)


class Messages:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[MESSAGES]

    async def create(self, message: Doc) -> bool:
        """Insert a new notice; False if one with the same idempotency key exists already."""
        try:
            await self.collection.insert_one(message)
        except DuplicateKeyError:
            return False
        return True

    async def get(self, key: str) -> Doc | None:
        return await self.collection.find_one({"_id": key}, {"outbox": 0})

    async def mark_sent(self, key: str, provider_id: str, at: Any) -> None:
        await self.collection.update_one(
            {"_id": key, "status": {"$in": ["pending", "retrying"]}},
            {"$set": {"status": "sent", "provider_id": provider_id, "sent_at": at}, "$inc": {"attempts": 1}},
        )

    async def list_to(self, to: str, limit: int = 100) -> list[Doc]:
        cursor = self.collection.find({"to": to}, {"outbox": 0}).sort("created_at", -1).limit(limit)
        return [doc async for doc in cursor]
