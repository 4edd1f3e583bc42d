"""Result and learning fields of selections (the results use cases update them; selection owns the rest of the document)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from enrollment.adapters.mongo import COURSES, SCHOOLS, SELECTIONS, TEACHERS, TERMS
from jijiao_kit.outbox import outbox_update

Doc = dict[str, Any]


class ResultRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.selections: AsyncCollection[Doc] = db[SELECTIONS]
        self.courses: AsyncCollection[Doc] = db[COURSES]
        self.terms: AsyncCollection[Doc] = db[TERMS]
        self.schools: AsyncCollection[Doc] = db[SCHOOLS]
        self.teachers: AsyncCollection[Doc] = db[TEACHERS]

    async def term(self, term: str) -> Doc | None:
        return await self.terms.find_one({"_id": term}, {"outbox": 0})

    async def course(self, term: str, code: str) -> Doc | None:
        return await self.courses.find_one({"_id": f"{term}:{code}"}, {"outbox": 0})

    async def teacher(self, ce_number: str) -> Doc | None:
        return await self.teachers.find_one({"_id": ce_number}, {"outbox": 0, "credentials": 0})

    async def school(self, school_id: str) -> Doc | None:
        return await self.schools.find_one({"_id": school_id}, {"outbox": 0})

    async def active_selection(self, term: str, ce_number: str, course_code: str) -> Doc | None:
        return await self.selections.find_one({"active_key": f"{term}:{ce_number}:{course_code}"}, {"outbox": 0})

    async def selection(self, selection_id: str) -> Doc | None:
        return await self.selections.find_one({"_id": selection_id}, {"outbox": 0})

    async def set_result(
        self, selection_id: str, *, expected_seq: int | None, fields: Doc, events: Sequence[Doc]
    ) -> bool:
        """Conditional on the result version read, so two registrations never both apply."""
        seq_condition: Any = {"$exists": False} if expected_seq is None else expected_seq
        result = await self.selections.update_one(
            {"_id": selection_id, "status": "active", "result_seq": seq_condition},
            outbox_update({"$set": {**fields, "result_seq": (expected_seq or 0) + 1}}, events),
        )
        return result.modified_count == 1

    async def mark_learning_started(
        self, term: str, ce_number: str, course_code: str, fields: Doc, events: Sequence[Doc]
    ) -> str:
        """``started`` (now), ``already`` (before) or ``missing`` (no active selection)."""
        key = f"{term}:{ce_number}:{course_code}"
        result = await self.selections.update_one(
            {"active_key": key, "learning_started": {"$ne": True}},
            outbox_update({"$set": {"learning_started": True, **fields}}, events),
        )
        if result.modified_count == 1:
            return "started"
        exists = await self.selections.count_documents({"active_key": key}, limit=1)
        return "already" if exists else "missing"

    async def selections_of(self, query: Doc, projection: Doc | None = None) -> list[Doc]:
        cursor = self.selections.find(query, projection or {"outbox": 0})
        return [doc async for doc in cursor]

    async def courses_of(self, query: Doc) -> list[Doc]:
        cursor = self.courses.find(query, {"code": 1, "name": 1, "programme": 1, "institution_id": 1, "school_id": 1})
        return [doc async for doc in cursor]
