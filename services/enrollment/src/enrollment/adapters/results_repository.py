"""Result and learning fields of selections (the results use cases update them; selection owns the rest of the document)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from enrollment.adapters.mongo import COURSES, SCHOOLS, SELECTIONS, TEACHERS, TERMS
from jijiao_kit.outbox import outbox_update

Doc = dict[str, Any]
#: Documents per command of a bulk read or write (the embedded store's sweet spot; see PERFORMANCE.md).
BULK_CHUNK = 1000


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

    # -- batches: one read and one bulk write per chunk, never a command per row ----------------------

    async def courses_in(self, term: str, codes: Sequence[str]) -> dict[str, Doc]:
        """The term's courses of ``codes``, by code."""
        ids = [f"{term}:{code}" for code in dict.fromkeys(codes)]
        found: dict[str, Doc] = {}
        for start in range(0, len(ids), BULK_CHUNK):
            async for doc in self.courses.find({"_id": {"$in": ids[start : start + BULK_CHUNK]}}, {"outbox": 0}):
                found[str(doc["code"])] = doc
        return found

    async def active_selections(self, keys: Sequence[str], projection: Doc | None = None) -> dict[str, Doc]:
        """The active selections of ``keys`` (``term:ce_number:course_code``), by key."""
        unique = list(dict.fromkeys(keys))
        found: dict[str, Doc] = {}
        for start in range(0, len(unique), BULK_CHUNK):
            query = {"active_key": {"$in": unique[start : start + BULK_CHUNK]}}
            async for doc in self.selections.find(query, projection or {"outbox": 0}):
                found[str(doc["active_key"])] = doc
        return found

    async def set_results(
        self, writes: Sequence[tuple[str, int | None, Doc, Sequence[Doc]]], request_id: str
    ) -> set[str]:
        """``set_result`` for many selections (id, expected_seq, fields, events), in bulk writes, each
        update conditional on its own result version as in ``set_result``. ``fields`` carry
        ``result_detail.request_id``: the ids of the updates that applied are read back by it when a
        concurrent registration made some of them miss."""
        ops = []
        for selection_id, expected_seq, fields, events in writes:
            seq_condition: Any = {"$exists": False} if expected_seq is None else expected_seq
            ops.append(
                UpdateOne(
                    {"_id": selection_id, "status": "active", "result_seq": seq_condition},
                    outbox_update({"$set": {**fields, "result_seq": (expected_seq or 0) + 1}}, events),
                )
            )
        ids = [write[0] for write in writes]
        return await self._applied(self.selections, ops, ids, "result_detail.request_id", request_id)

    async def mark_learning_started_many(
        self, writes: Sequence[tuple[str, str, Doc, Sequence[Doc]]], request_id: str
    ) -> set[str]:
        """Mark selections (id, active_key, fields, events) as started, each only if it was not, in bulk
        writes; returns the ids this request marked (``learning_detail.request_id``)."""
        ops = [
            UpdateOne(
                {"_id": selection_id, "active_key": key, "learning_started": {"$ne": True}},
                outbox_update({"$set": {"learning_started": True, **fields}}, events),
            )
            for selection_id, key, fields, events in writes
        ]
        ids = [write[0] for write in writes]
        return await self._applied(self.selections, ops, ids, "learning_detail.request_id", request_id)

    @staticmethod
    async def _applied(
        collection: AsyncCollection[Doc], ops: list[UpdateOne], ids: list[str], marker: str, request_id: str
    ) -> set[str]:
        applied: set[str] = set()
        for start in range(0, len(ops), BULK_CHUNK):
            chunk_ids = ids[start : start + BULK_CHUNK]
            result = await collection.bulk_write(ops[start : start + BULK_CHUNK], ordered=False)
            if result.modified_count == len(chunk_ids):
                applied.update(chunk_ids)
                continue
            query = {"_id": {"$in": chunk_ids}, marker: request_id}
            applied.update([str(doc["_id"]) async for doc in collection.find(query, {"_id": 1})])
        return applied

    async def selections_of(self, query: Doc, projection: Doc | None = None) -> list[Doc]:
        cursor = self.selections.find(query, projection or {"outbox": 0})
        return [doc async for doc in cursor]

    async def courses_of(self, query: Doc) -> list[Doc]:
        cursor = self.courses.find(query, {"code": 1, "name": 1, "programme": 1, "institution_id": 1, "school_id": 1})
        return [doc async for doc in cursor]
