from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from hours.adapters.mongo import LEDGER, TEACHERS
from jijiao_kit.projections import upsert_newer

Doc = dict[str, Any]


class HoursAccounts:
    """One document per teacher: the account the bank credits, opened when enrollment registers them."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.teachers = db[TEACHERS]
        self.ledger = db[LEDGER]

    async def open(self, ce_number: str, fields: Doc, as_of: Any) -> bool:
        return await upsert_newer(self.teachers, ce_number, fields, as_of)

    async def get(self, ce_number: str) -> Doc | None:
        return await self.teachers.find_one({"_id": ce_number}, {"outbox": 0})

    async def entries(self, ce_number: str, year: int) -> list[Doc]:
        cursor = self.ledger.find({"ce_number": ce_number, "year": year}, {"outbox": 0}).sort("recorded_at", 1)
        return [doc async for doc in cursor]
