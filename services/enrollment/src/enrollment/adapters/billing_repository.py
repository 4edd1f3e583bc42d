"""Bills (账单) and the payment fields of selections, in Mongo."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from enrollment.adapters.mongo import BILLS, SCHOOLS, SELECTIONS, TERMS
from jijiao_kit.outbox import outbox_update, with_outbox
from jijiao_kit.timeutil import as_utc

Doc = dict[str, Any]

#: Selection fields billing and its queries read (the projection keeps big terms cheap).
SELECTION_FIELDS = {
    "_id": 1,
    "term": 1,
    "ce_number": 1,
    "name": 1,
    "school_id": 1,
    "district": 1,
    "subject": 1,
    "course_code": 1,
    "course_name": 1,
    "programme": 1,
    "hour_type": 1,
    "hours": 1,
    "attribute": 1,
    "training_fee_fen": 1,
    "material_fee_fen": 1,
    "payee": 1,
    "status": 1,
    "paid": 1,
    "bill_id": 1,
}


class BillRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.bills: AsyncCollection[Doc] = db[BILLS]
        self.selections: AsyncCollection[Doc] = db[SELECTIONS]
        self.terms: AsyncCollection[Doc] = db[TERMS]
        self.schools: AsyncCollection[Doc] = db[SCHOOLS]

    async def term(self, term: str) -> Doc | None:
        return await self.terms.find_one({"_id": term}, {"outbox": 0})

    async def schools_by_id(self, ids: Sequence[str]) -> dict[str, Doc]:
        cursor = self.schools.find({"_id": {"$in": list(ids)}}, {"name": 1, "seal_name": 1, "district": 1})
        return {doc["_id"]: doc async for doc in cursor}

    async def active_selections(self, term: str, query: Doc | None = None) -> list[Doc]:
        cursor = self.selections.find({"term": term, "status": "active", **(query or {})}, SELECTION_FIELDS)
        return [doc async for doc in cursor]

    async def get(self, bill_id: str) -> Doc | None:
        return await self.bills.find_one({"_id": bill_id}, {"outbox": 0})

    async def exists(self, bill_id: str) -> bool:
        return await self.bills.count_documents({"_id": bill_id}, limit=1) > 0

    async def insert(self, bill: Doc, events: Sequence[Doc]) -> bool:
        """Insert once: False when a bill with this id exists (another run issued it)."""
        try:
            await self.bills.insert_one(with_outbox(bill, events))
        except DuplicateKeyError:
            return False
        return True

    async def attach_selections(self, bill_id: str, selection_ids: Sequence[str]) -> None:
        """Mark the bill's selections as billed (idempotent: the bill id is deterministic)."""
        await self.selections.update_many({"_id": {"$in": list(selection_ids)}}, {"$set": {"bill_id": bill_id}})

    async def count(self, query: Doc) -> int:
        return await self.bills.count_documents(query)

    async def find(self, query: Doc) -> list[Doc]:
        cursor = self.bills.find(query, {"outbox": 0}).sort([("school_id", 1), ("payee", 1)])
        return [doc async for doc in cursor]

    async def record_payment(
        self,
        bill_id: str,
        *,
        amount_fen: int,
        paid_condition: Any,
        key: str,
        fields: Doc,
        increment: int,
        events: Sequence[Doc],
    ) -> bool:
        """The payment, the paid total (``$inc``) and the event in one conditional write; False when
        the reference is recorded already or the paid total does not satisfy ``paid_condition``."""
        result = await self.bills.update_one(
            {
                "_id": bill_id,
                "amount_fen": amount_fen,
                "paid_fen": paid_condition,
                f"payments.{key}": {"$exists": False},
            },
            outbox_update({"$set": fields, "$inc": {"paid_fen": increment}}, events),
        )
        return result.modified_count == 1

    async def mark_selections_paid(self, bill_id: str, paid_at: datetime) -> int:
        result = await self.selections.update_many(
            {"bill_id": bill_id, "status": "active", "paid": {"$ne": True}},
            {"$set": {"paid": True, "paid_at": paid_at}},
        )
        return result.modified_count

    async def paid_bill_ids(self, bill_ids: Sequence[str]) -> set[str]:
        cursor = self.bills.find({"_id": {"$in": list(bill_ids)}, "status": "paid"}, {"_id": 1})
        return {doc["_id"] async for doc in cursor}

    async def terms_closed_before(self, now: datetime) -> list[str]:
        """Terms whose window closed and whose bills were not issued yet (the job's work list)."""
        cursor = self.terms.find({}, {"_id": 1, "selection_closes_at": 1, "bills_issued_at": 1})
        # Compared in Python: a time $set later comes back as a string from the embedded store.
        return [
            doc["_id"]
            async for doc in cursor
            if not doc.get("bills_issued_at")
            and doc.get("selection_closes_at")
            and as_utc(doc["selection_closes_at"]) <= now  # type: ignore[operator]
        ]

    async def mark_term_billed(self, term: str, now: datetime) -> None:
        await self.terms.update_one({"_id": term}, {"$set": {"bills_issued_at": now}})

    async def selection(self, selection_id: str) -> Doc | None:
        return await self.selections.find_one({"_id": selection_id}, SELECTION_FIELDS)

    async def school_bills(self, term: str, school_id: str) -> list[Doc]:
        cursor = self.bills.find({"term": term, "school_id": school_id}, {"outbox": 0, "payments": 0})
        return [doc async for doc in cursor]

    async def terms_by_id(self, terms: Sequence[str]) -> dict[str, Doc]:
        cursor = self.terms.find(
            {"_id": {"$in": list(terms)}},
            {"_id": 1, "selection_closes_at": 1, "bills_issued_at": 1, "payment_due_at": 1},
        )
        return {doc["_id"]: doc async for doc in cursor}

    async def update_bill(self, bill: Doc, update: Doc, events: Sequence[Doc] = ()) -> bool:
        """Write a bill's new content once: only if nobody changed it since it was read (its
        ``version``) and no payment landed meanwhile (its ``paid_fen``); False otherwise."""
        version: Any = bill.get("version", {"$exists": False})
        result = await self.bills.update_one(
            {"_id": bill["_id"], "version": version, "paid_fen": bill["paid_fen"]},
            outbox_update(update, events),
        )
        return result.modified_count == 1

    async def mark_billed(self, bill_id: str, selection_ids: Sequence[str]) -> None:
        """Point these selections (the caller passes those that do not yet) at the bill."""
        if selection_ids:
            await self.selections.update_many({"_id": {"$in": list(selection_ids)}}, {"$set": {"bill_id": bill_id}})
