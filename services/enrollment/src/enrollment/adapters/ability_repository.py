"""Ability-improvement project documents: pilot scope per term x district, one plan document per
term x teacher (diagnostic attempts in a map keyed by attempt number, the confirmed plan), and
retakes (重修) per term x teacher x course."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from enrollment.adapters.mongo import ABILITY_PILOTS, ABILITY_PLANS, ABILITY_RETAKES

Doc = dict[str, Any]


class AbilityRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.pilots = db[ABILITY_PILOTS]
        self.plans = db[ABILITY_PLANS]
        self.retakes = db[ABILITY_RETAKES]

    # -- pilot scope ---------------------------------------------------------------------------
    async def set_pilot(self, term: str, district: str, subjects: list[str], by: str, at: datetime) -> Doc:
        doc = await self.pilots.find_one_and_update(
            {"_id": f"{term}:{district}"},
            {"$set": {"term": term, "district": district, "subjects": subjects, "updated_by": by, "updated_at": at}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None
        return doc

    async def pilot(self, term: str, district: str) -> Doc | None:
        return await self.pilots.find_one({"_id": f"{term}:{district}"})

    async def pilots_of(self, term: str) -> list[Doc]:
        return [doc async for doc in self.pilots.find({"term": term}).sort("district", 1)]

    # -- plans -----------------------------------------------------------------------------------
    async def plan(self, term: str, ce_number: str) -> Doc | None:
        return await self.plans.find_one({"_id": f"{term}:{ce_number}"})

    async def ensure_plan(self, term: str, ce_number: str) -> Doc:
        """Create the plan document once (insert; a concurrent duplicate is refused by ``_id``)."""
        key = f"{term}:{ce_number}"
        doc = await self.plans.find_one({"_id": key})
        if doc is None:
            try:
                await self.plans.insert_one(
                    {
                        "_id": key,
                        "term": term,
                        "ce_number": ce_number,
                        "attempts_used": 0,
                        "attempts": {},
                        "confirmed_attempt": None,
                        "confirmed_at": None,
                        "plan_confirmed": False,
                    }
                )
            except DuplicateKeyError:
                pass
            doc = await self.plans.find_one({"_id": key})
        assert doc is not None
        return doc

    async def add_attempt(self, term: str, ce_number: str, used: int, attempt: Doc) -> bool:
        """Record attempt number ``used + 1`` only if nobody recorded one meanwhile (the count is
        in the filter, a version check) and the result is not confirmed."""
        number = used + 1
        result = await self.plans.update_one(
            {"_id": f"{term}:{ce_number}", "attempts_used": used, "confirmed_attempt": None},
            {"$set": {f"attempts.{number}": attempt}, "$inc": {"attempts_used": 1}},
        )
        return result.modified_count == 1

    async def confirm_attempt(self, term: str, ce_number: str, number: int, at: datetime) -> bool:
        result = await self.plans.update_one(
            {"_id": f"{term}:{ce_number}", "confirmed_attempt": None, f"attempts.{number}": {"$exists": True}},
            {"$set": {"confirmed_attempt": number, "confirmed_at": at}},
        )
        return result.modified_count == 1

    async def record_plan(self, term: str, ce_number: str, fields: Doc) -> None:
        await self.plans.update_one({"_id": f"{term}:{ce_number}"}, {"$set": fields})

    # -- retakes ---------------------------------------------------------------------------------
    async def open_retake(self, retake: Doc) -> bool:
        """Idempotent: one retake per term x teacher x course (``_id``)."""
        result = await self.retakes.update_one({"_id": retake["_id"]}, {"$setOnInsert": retake}, upsert=True)
        return result.upserted_id is not None

    async def retakes_of(self, term: str, ce_number: str | None = None) -> list[Doc]:
        query: Doc = {"term": term}
        if ce_number:
            query["ce_number"] = ce_number
        return [doc async for doc in self.retakes.find(query).sort("_id", 1).limit(5000)]

    async def retake(self, retake_id: str) -> Doc | None:
        return await self.retakes.find_one({"_id": retake_id})

    async def set_retake_result(self, retake_id: str, passed: bool, by: str, at: datetime) -> bool:
        result = await self.retakes.update_one(
            {"_id": retake_id},
            {"$set": {"passed": passed, "status": "passed" if passed else "failed", "result_by": by, "result_at": at}},
        )
        return result.matched_count == 1
