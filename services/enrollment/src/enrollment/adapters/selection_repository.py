"""Selections and carts in Mongo. ``active_key`` (unique, sparse) holds one active selection per
teacher x course x term; cancelling unsets it so the teacher may select the course again."""

from __future__ import annotations

from collections.abc import Sequence
from types import EllipsisType
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from enrollment.adapters.mongo import CARTS, SELECTIONS
from enrollment.adapters.repositories import _Repository
from jijiao_kit.coalescing import CoalescingInserter
from jijiao_kit.outbox import outbox_update, with_outbox

Doc = dict[str, Any]


class AlreadySelected(Exception):
    """The unique ``active_key`` index refused a second active selection."""


class SelectionRepository(_Repository):
    collection_name = SELECTIONS

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        super().__init__(db)
        # Concurrent selections are inserted by one unordered insert_many (jijiao_kit.coalescing);
        # each caller still gets its own outcome (AlreadySelected for its own duplicate key).
        self._inserter = CoalescingInserter(self.collection)

    async def add(self, document: Doc, events: Sequence[Doc] = ()) -> None:
        try:
            await self._inserter.insert(with_outbox(document, events))
        except DuplicateKeyError as exc:
            raise AlreadySelected(document.get("active_key")) from exc

    async def exists(self, selection_id: str) -> bool:
        return await self.collection.find_one({"_id": selection_id}, {"_id": 1}) is not None

    async def active_by_key(self, key: str) -> Doc | None:
        return await self.collection.find_one({"active_key": key}, {"outbox": 0})

    async def cancel(
        self, selection_id: str, fields: Doc, events: Sequence[Doc], *, result_seq: int | EllipsisType | None = ...
    ) -> bool:
        """Active -> cancelled once; only the update that finds it active emits the event. With
        ``result_seq`` (None: no result yet), only while the result is still the one read."""
        condition: Doc = {"_id": selection_id, "status": "active"}
        if result_seq is not Ellipsis:
            condition["result_seq"] = result_seq if result_seq is not None else {"$exists": False}
        result = await self.collection.update_one(
            condition,
            outbox_update({"$set": {**fields, "status": "cancelled"}, "$unset": {"active_key": ""}}, events),
        )
        return result.modified_count == 1

    async def find_many(self, query: Doc, *, skip: int = 0, limit: int = 500) -> list[Doc]:
        cursor = self.collection.find(query, {"outbox": 0}).sort([("created_at", ASCENDING)]).skip(skip).limit(limit)
        return [doc async for doc in cursor]

    async def count(self, query: Doc) -> int:
        return await self.collection.count_documents(query)

    async def passed_hours_by_type(self, ce_number: str, year_prefix: str) -> dict[str, float]:
        """Hours of passed courses this year, by hour type (the hours status enrollment knows)."""
        totals: dict[str, float] = {}
        cursor = self.collection.find(
            {"ce_number": ce_number, "result": "passed", "term": {"$regex": f"^{year_prefix}"}},
            {"hour_type": 1, "hours": 1},
        )
        async for doc in cursor:
            totals[doc["hour_type"]] = totals.get(doc["hour_type"], 0.0) + float(doc.get("hours", 0))
        return totals

    async def counts_by_course(self, query: Doc) -> list[Doc]:
        """Active selections per course (选课统计)."""
        pipeline: list[Doc] = [
            {"$match": {**query, "status": "active"}},
            {"$group": {"_id": "$course_code", "course_name": {"$first": "$course_name"}, "n": {"$sum": 1}}},
            {"$sort": {"n": -1, "_id": 1}},
        ]
        cursor = await self.collection.aggregate(pipeline)
        return [row async for row in cursor]

    async def popular_with_subject(self, term: str, subject: str, *, limit: int = 50) -> list[str]:
        """Course codes most chosen this term by teachers of the subject (同学科老师报读课程)."""
        pipeline: list[Doc] = [
            {"$match": {"term": term, "subject": subject, "status": "active"}},
            {"$group": {"_id": "$course_code", "n": {"$sum": 1}}},
            {"$sort": {"n": -1, "_id": 1}},
            {"$limit": limit},
        ]
        cursor = await self.collection.aggregate(pipeline)
        return [str(row["_id"]) async for row in cursor]


class CartRepository(_Repository):
    """购物车: one document per term x teacher, courses in a map keyed by code (no $push of sub-documents)."""

    collection_name = CARTS

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        super().__init__(db)

    async def put(self, term: str, ce_number: str, code: str, item: Doc) -> None:
        await self.collection.update_one(
            {"_id": f"{term}:{ce_number}"},
            {"$set": {f"items.{code}": item}, "$setOnInsert": {"term": term, "ce_number": ce_number}},
            upsert=True,
        )

    async def remove(self, term: str, ce_number: str, code: str) -> None:
        await self.collection.update_one({"_id": f"{term}:{ce_number}"}, {"$unset": {f"items.{code}": ""}})

    async def items(self, term: str, ce_number: str) -> dict[str, Doc]:
        doc = await self.collection.find_one({"_id": f"{term}:{ce_number}"})
        return dict((doc or {}).get("items") or {})
