"""Projections the term statistics are computed from (in Python: the embedded store's compound
``$group`` keys do not work, see docs/DEVELOPING.md)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from enrollment.adapters.mongo import COURSES, SELECTIONS, TERMS

Doc = dict[str, Any]

PROJECTION = {
    "_id": 0,
    "ce_number": 1,
    "district": 1,
    "subject": 1,
    "school_id": 1,
    "course_code": 1,
    "course_name": 1,
    "programme": 1,
    "hour_type": 1,
    "status": 1,
    "paid": 1,
    "learning_started": 1,
    "result": 1,
    "training_fee_fen": 1,
    "material_fee_fen": 1,
    "hours": 1,
    "ability_category": 1,
}


class StatisticsRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.selections: AsyncCollection[Doc] = db[SELECTIONS]
        self.courses: AsyncCollection[Doc] = db[COURSES]
        self.terms: AsyncCollection[Doc] = db[TERMS]

    async def term(self, term: str) -> Doc | None:
        return await self.terms.find_one({"_id": term}, {"_id": 1, "year": 1})

    async def selections_of(self, query: Doc) -> list[Doc]:
        return [doc async for doc in self.selections.find({**query, "status": "active"}, PROJECTION)]

    async def courses_of(self, query: Doc) -> list[Doc]:
        return [doc async for doc in self.courses.find(query, {"code": 1, "name": 1, "programme": 1})]
