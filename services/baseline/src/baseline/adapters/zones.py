from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from baseline.adapters.mongo import ZONES

Doc = dict[str, Any]


class ZoneNameTaken(Exception):
    pass


class ZoneRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[ZONES]

    async def add(self, zone: Doc) -> None:
        try:
            await self.collection.insert_one(zone)
        except DuplicateKeyError as exc:
            raise ZoneNameTaken(zone["name"]) from exc

    async def get(self, zone_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": zone_id})
