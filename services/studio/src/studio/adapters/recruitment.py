"""Recruitments and applications in the store. An admitted application is the membership."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from jijiao_kit.coalescing import CoalescingQuery
from jijiao_kit.outbox import outbox_update, with_outbox
from studio.adapters.mongo import APPLICATIONS, RECRUITMENTS

Doc = dict[str, Any]


class RecruitmentRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[RECRUITMENTS]
        # Every studio read asks which recruitments are open now: concurrent callers share one find.
        self._applying = CoalescingQuery(
            self.collection,
            lambda moments: {"apply_from_ms": {"$lte": max(moments)}, "apply_to_ms": {"$gt": min(moments)}},
            lambda at, doc: doc["apply_from_ms"] <= at < doc["apply_to_ms"],
        )

    async def add(self, doc: Doc) -> None:
        await self.collection.insert_one(doc)

    async def get(self, recruitment_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": recruitment_id})

    async def of_cycle(self, cycle_start_year: int) -> list[Doc]:
        return [doc async for doc in self.collection.find({"cycle_start_year": cycle_start_year})]

    async def applying_at(self, at_ms: int) -> list[Doc]:
        return await self._applying.find(at_ms)


class ApplicationRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[APPLICATIONS]
        # The caller's admitted application in a studio, asked on every studio call: concurrent callers
        # share one find over the (studio, teacher) pairs of the moment.
        self._memberships = CoalescingQuery(
            self.collection,
            # by teacher only (index ``teacher``): a teacher has few admitted applications, while a
            # studio $in crossed with a teacher $in made the store walk every member of every studio
            lambda pairs: {"ce_number": {"$in": sorted({c for _, c in pairs})}, "status": "admitted"},
            lambda pair, doc: (doc["studio_id"], doc["ce_number"]) == pair,
            {"outbox": 0},
        )

    async def add(self, doc: Doc) -> bool:
        """False if the teacher already applied to this recruitment (the ``_id`` is unique)."""
        try:
            await self.collection.insert_one(with_outbox(doc, []))
        except DuplicateKeyError:
            return False
        return True

    async def get(self, application_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": application_id})

    async def for_round(self, recruitment_ids: list[str], studio_id: str, round_number: int) -> list[Doc]:
        query = {"recruitment_id": {"$in": recruitment_ids}, f"prefs.{round_number}": studio_id}
        return [doc async for doc in self.collection.find(query, {"outbox": 0}).sort("applied_ms", 1)]

    async def decide(self, application_id: str, round_number: int, fields: Doc, entries: list[Doc]) -> str:
        """Record the round's decision once: ``ok``, ``decided`` (already) or ``member_elsewhere``."""
        query = {"_id": application_id, "status": "pending", f"decisions.{round_number}": {"$exists": False}}
        try:
            result = await self.collection.update_one(query, outbox_update({"$set": fields}, entries))
        except DuplicateKeyError:
            return "member_elsewhere"
        return "ok" if result.modified_count == 1 else "decided"

    async def membership(self, studio_id: str, ce_number: str | None) -> Doc | None:
        if not ce_number:
            return None
        found = await self._memberships.find((studio_id, ce_number))
        doc = found[0] if found else None
        if doc is not None:
            doc["assistant"] = bool(doc.get("assistant"))
        return doc

    async def memberships_of(self, ce_number: str) -> list[Doc]:
        query = {"ce_number": ce_number, "status": "admitted"}
        return [doc async for doc in self.collection.find(query, {"outbox": 0})]

    async def members(self, studio_id: str, role: str | None = None) -> list[Doc]:
        query: Doc = {"studio_id": studio_id, "status": "admitted"}
        if role:
            query["role"] = role
        return [doc async for doc in self.collection.find(query, {"outbox": 0}).sort("joined_ms", 1)]

    async def count_pending(self, recruitment_ids: list[str], studio_id: str, round_number: int) -> int:
        return await self.collection.count_documents(
            {
                "recruitment_id": {"$in": recruitment_ids},
                f"prefs.{round_number}": studio_id,
                "status": "pending",
                f"decisions.{round_number}": {"$exists": False},
            }
        )

    async def set_assistant(self, studio_id: str, ce_number: str, assistant: bool) -> bool:
        result = await self.collection.update_one(
            {"studio_id": studio_id, "ce_number": ce_number, "status": "admitted", "role": "member"},
            {"$set": {"assistant": assistant}},
        )
        return result.matched_count == 1

    async def remove_student(self, studio_id: str, ce_number: str, at_ms: int) -> bool:
        result = await self.collection.update_one(
            {"studio_id": studio_id, "ce_number": ce_number, "status": "admitted", "role": "student"},
            {"$set": {"status": "removed", "removed_ms": at_ms}},
        )
        return result.modified_count == 1
