"""Transfer applications (教师调动申请) and the read of a teacher's unpaid past selections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from enrollment.adapters.mongo import TRANSFERS
from enrollment.adapters.repositories import AlreadyExists
from enrollment.domain.transfers import is_unpaid_past
from jijiao_kit.outbox import OUTBOX, PENDING, outbox_update
from jijiao_kit.timeutil import as_utc

Doc = dict[str, Any]
HIDDEN = {OUTBOX: 0, PENDING: 0}

#: Collections of the selection and term use cases (shared data model); read here only.
SELECTIONS = "selections"
TERMS = "terms"


class TransferRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection: AsyncCollection[Doc] = db[TRANSFERS]

    async def add(self, application: Doc) -> None:
        try:
            await self.collection.insert_one(application)
        except DuplicateKeyError as exc:
            raise AlreadyExists("open_key") from exc

    async def get(self, transfer_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": transfer_id}, HIDDEN)

    async def claim(self, transfer_id: str, condition: Doc, changes: Doc) -> Doc | None:
        """Move an application on only if it is still as ``condition`` says (one caller wins)."""
        return await self.collection.find_one_and_update(
            {"_id": transfer_id, **condition},
            {"$set": changes},
            projection=HIDDEN,
            return_document=ReturnDocument.AFTER,
        )

    async def close(self, transfer_id: str, condition: Doc, changes: Doc, events: Sequence[Doc] = ()) -> Doc | None:
        """Decide an application: set its final fields, free the teacher's open slot and carry the
        decision's events (``TransferDecided``), in one conditional write."""
        return await self.collection.find_one_and_update(
            {"_id": transfer_id, **condition},
            outbox_update({"$set": changes, "$unset": {"open_key": ""}}, events),
            projection=HIDDEN,
            return_document=ReturnDocument.AFTER,
        )

    async def find(self, query: Doc, *, limit: int = 200, skip: int = 0) -> list[Doc]:
        cursor = self.collection.find(query, HIDDEN).sort("applied_at", -1).skip(skip).limit(limit)
        return [doc async for doc in cursor]


class SelectionLedger:
    """What transfers need to know about selections: the unpaid ones of past terms."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.selections: AsyncCollection[Doc] = db[SELECTIONS]
        self.terms: AsyncCollection[Doc] = db[TERMS]

    async def unpaid_past_selections(self, ce_number: str, now: datetime) -> list[Doc]:
        # Terms are few (two a year); compare in Python because a rescheduled deadline written by $set
        # comes back from the embedded store as a string, which a $lt on dates would not match.
        past_terms = {
            doc["_id"]
            async for doc in self.terms.find({}, {"payment_due_at": 1})
            if doc.get("payment_due_at") is not None and as_utc(doc["payment_due_at"]) < now  # type: ignore[operator]
        }
        if not past_terms:
            return []
        cursor = self.selections.find(
            {"ce_number": ce_number, "status": "active"},
            {
                "term": 1,
                "course_code": 1,
                "course_name": 1,
                "status": 1,
                "paid": 1,
                "programme": 1,
                "training_fee_fen": 1,
                "material_fee_fen": 1,
            },
        )
        return [doc async for doc in cursor if is_unpaid_past(doc, past_terms)]
