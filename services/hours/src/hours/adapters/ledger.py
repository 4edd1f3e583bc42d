"""The hours ledger: one entry per hour-granting fact, ``_id`` = the hash of its source key (unique), each
inserted with its event (``HoursCredited`` / ``HoursAdjusted``) in its outbox in the same write."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from hours.adapters.mongo import LEDGER
from jijiao_kit.outbox import with_outbox

Doc = dict[str, Any]
DUPLICATE_KEY = 11000
WITHOUT_OUTBOX = {"outbox": 0, "outbox_pending": 0}


class LedgerStore(Protocol):
    async def get(self, key: str) -> Doc | None: ...

    async def existing(self, keys: Sequence[str]) -> set[str]: ...

    async def add(self, entry: Doc, events: Sequence[Doc]) -> None: ...

    async def add_many(self, entries: Sequence[tuple[Doc, Sequence[Doc]]]) -> None: ...

    async def of_teacher(self, ce_number: str, year_from: int, year_to: int) -> list[Doc]: ...


class Ledger:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[LEDGER]

    async def get(self, key: str) -> Doc | None:
        return await self.collection.find_one({"_id": key}, WITHOUT_OUTBOX)

    async def existing(self, keys: Sequence[str]) -> set[str]:
        """Which of these entries are written (one query for a batch)."""
        if not keys:
            return set()
        return {doc["_id"] async for doc in self.collection.find({"_id": {"$in": list(keys)}}, {"_id": 1})}

    async def add(self, entry: Doc, events: Sequence[Doc]) -> None:
        """Insert the entry with its events; an entry written before (same key) stays as it is."""
        try:
            await self.collection.insert_one(with_outbox(entry, events))
        except DuplicateKeyError:
            pass

    async def add_many(self, entries: Sequence[tuple[Doc, Sequence[Doc]]]) -> None:
        """One unordered insert for a batch; entries written before stay as they are."""
        if not entries:
            return
        try:
            await self.collection.insert_many([with_outbox(entry, events) for entry, events in entries], ordered=False)
        except BulkWriteError as exc:
            if any(error.get("code") != DUPLICATE_KEY for error in exc.details.get("writeErrors", [])):
                raise

    async def of_teacher(self, ce_number: str, year_from: int, year_to: int) -> list[Doc]:
        """The teacher's entries of these years (credits and adjustments), unordered."""
        cursor = self.collection.find(
            {"ce_number": ce_number, "year": {"$gte": year_from, "$lte": year_to}}, WITHOUT_OUTBOX
        )
        return [doc async for doc in cursor]
