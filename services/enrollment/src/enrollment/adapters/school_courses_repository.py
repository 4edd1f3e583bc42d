"""School-based courses live in the shared ``courses`` collection (programme "school")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from enrollment.adapters.mongo import COURSES, SCHOOLS, TERMS
from jijiao_kit.outbox import outbox_update, with_outbox

Doc = dict[str, Any]


class SchoolCourseRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.courses: AsyncCollection[Doc] = db[COURSES]
        self.terms: AsyncCollection[Doc] = db[TERMS]
        self.schools: AsyncCollection[Doc] = db[SCHOOLS]

    async def school(self, school_id: str) -> Doc | None:
        return await self.schools.find_one({"_id": school_id}, {"outbox": 0})

    async def term(self, term: str) -> Doc | None:
        return await self.terms.find_one({"_id": term}, {"outbox": 0})

    async def terms_of_year(self, year: int) -> list[Doc]:
        return [doc async for doc in self.terms.find({"year": year}, {"_id": 1, "year": 1})]

    async def get(self, term: str, code: str) -> Doc | None:
        return await self.courses.find_one({"_id": f"{term}:{code}", "programme": "school"}, {"outbox": 0})

    async def add(self, course: Doc) -> None:
        await self.courses.insert_one(with_outbox(course, []))

    async def update_if(self, course_id: str, condition: Doc, update: Doc, events: Sequence[Doc] = ()) -> bool:
        result = await self.courses.update_one({"_id": course_id, **condition}, outbox_update(update, events))
        return result.modified_count == 1

    async def of_school(self, school_id: str, term: str | None) -> list[Doc]:
        query: Doc = {"programme": "school", "school_id": school_id}
        if term:
            query["term"] = term
        cursor = self.courses.find(query, {"outbox": 0}).sort([("term", -1), ("code", 1)])
        return [doc async for doc in cursor]
