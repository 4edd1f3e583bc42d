"""What verification reads and stores: credited sums from the ledger, the last snapshot per teacher and
year (with its ``VerificationCompleted`` event in the same write), and the configured cycles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from hours.adapters.mongo import CYCLES, LEDGER, VERIFICATIONS
from jijiao_kit.outbox import outbox_update

Doc = dict[str, Any]
SUMMED = {"_id": 0, "ce_number": 1, "year": 1, "category": 1, "credited": 1}


class VerificationRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.ledger = db[LEDGER]
        self.snapshots = db[VERIFICATIONS]
        self.cycles = db[CYCLES]

    async def credited_of(self, ce_number: str, first: int, last: int) -> list[Doc]:
        """Year, category and credited hours of a teacher's ledger entries of these years."""
        cursor = self.ledger.find({"ce_number": ce_number, "year": {"$gte": first, "$lte": last}}, SUMMED)
        return [doc async for doc in cursor]

    async def credited_all(self, first: int, last: int) -> AsyncIterator[Doc]:
        """Teacher, year, category and credited hours of every ledger entry of these years (one scan)."""
        async for row in self.ledger.find({"year": {"$gte": first, "$lte": last}}, SUMMED, batch_size=5000):
            yield row

    async def fingerprints(self, year: int) -> dict[str, Any]:
        """Snapshot id -> fingerprint of the stored results of ``year``."""
        return {
            doc["_id"]: doc.get("fingerprint") async for doc in self.snapshots.find({"year": year}, {"fingerprint": 1})
        }

    async def store_snapshots(self, snapshots: Sequence[tuple[str, Doc, Sequence[Doc]]], chunk: int = 1000) -> None:
        """(snapshot id, fields, events): each snapshot replaced with its events in one write."""
        writes = [
            UpdateOne({"_id": snapshot_id}, outbox_update({"$set": fields}, events), upsert=True)
            for snapshot_id, fields, events in snapshots
        ]
        for start in range(0, len(writes), chunk):
            await self.snapshots.bulk_write(writes[start : start + chunk], ordered=False)

    async def put_cycle(self, doc: Doc) -> None:
        await self.cycles.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def cycle(self, cycle_id: str) -> Doc | None:
        return await self.cycles.find_one({"_id": cycle_id})
