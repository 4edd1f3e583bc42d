"""What the special-user job reads (unpaid selections, paid bills, terms due) and proof files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from enrollment.adapters.mongo import BILLS, SELECTIONS, SPECIAL_USER_PROOFS, TERMS
from enrollment.domain.billing import CITY_RUN_PROGRAMMES
from jijiao_kit.timeutil import as_utc

Doc = dict[str, Any]


class SpecialUserRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.selections: AsyncCollection[Doc] = db[SELECTIONS]
        self.bills: AsyncCollection[Doc] = db[BILLS]
        self.terms: AsyncCollection[Doc] = db[TERMS]
        self.proofs: AsyncCollection[Doc] = db[SPECIAL_USER_PROOFS]

    async def term(self, term: str) -> Doc | None:
        return await self.terms.find_one({"_id": term}, {"outbox": 0})

    async def terms_due(self, now: datetime) -> list[str]:
        """Terms past their payment deadline whose special users were not flagged yet."""
        cursor = self.terms.find({}, {"_id": 1, "payment_due_at": 1, "special_users_flagged_at": 1})
        # Compared in Python: a time $set later comes back as a string from the embedded store.
        return [
            doc["_id"]
            async for doc in cursor
            if not doc.get("special_users_flagged_at")
            and doc.get("payment_due_at")
            and as_utc(doc["payment_due_at"]) <= now  # type: ignore[operator]
        ]

    async def mark_term_flagged(self, term: str, now: datetime) -> bool:
        result = await self.terms.update_one(
            {"_id": term, "special_users_flagged_at": {"$exists": False}}, {"$set": {"special_users_flagged_at": now}}
        )
        return result.modified_count == 1

    async def unpaid_selections(self, term: str) -> list[Doc]:
        cursor = self.selections.find(
            {
                "term": term,
                "status": "active",
                "programme": {"$in": sorted(CITY_RUN_PROGRAMMES)},
                "paid": {"$ne": True},
            },
            {
                "ce_number": 1,
                "course_code": 1,
                "programme": 1,
                "hour_type": 1,
                "status": 1,
                "paid": 1,
                "bill_id": 1,
                "training_fee_fen": 1,
                "material_fee_fen": 1,
                "term": 1,
            },
        )
        return [doc async for doc in cursor]

    async def paid_bill_ids(self, term: str) -> set[str]:
        return {doc["_id"] async for doc in self.bills.find({"term": term, "status": "paid"}, {"_id": 1})}

    async def add_proof(self, proof: Doc) -> None:
        await self.proofs.insert_one(proof)
