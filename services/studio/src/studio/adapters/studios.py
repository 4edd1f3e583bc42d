"""Studios in the store."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from studio.adapters.mongo import STUDIOS

Doc = dict[str, Any]


class StudioRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[STUDIOS]

    async def add(self, studio: Doc) -> None:
        await self.collection.insert_one(studio)

    async def get(self, studio_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": studio_id})

    async def hosted_by(self, ce_number: str) -> list[Doc]:
        return [doc async for doc in self.collection.find({"host_ce_number": ce_number}).sort("name", 1)]
