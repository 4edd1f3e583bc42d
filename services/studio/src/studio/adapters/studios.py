"""Studios in the store (counters of members and online students are the store-enforced quotas)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from jijiao_kit.coalescing import by_id
from studio.adapters.mongo import STUDIOS

Doc = dict[str, Any]
#: The seat holds are the admission repair's bookkeeping, read only by it.
HIDE = {"seat_holds": 0}


class StudioRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[STUDIOS]
        # The seat holds are the repair's bookkeeping (up to one per admitted application until it runs):
        # no caller of ``get`` needs them, so they are not read, copied or decoded on every studio call.
        self._by_id = by_id(self.collection, HIDE)

    async def add(self, studio: Doc) -> None:
        await self.collection.insert_one(studio)

    async def get(self, studio_id: str) -> Doc | None:
        """Concurrent callers share one read (group commit, ``jijiao_kit.coalescing``)."""
        found = await self._by_id.find(studio_id)
        return found[0] if found else None

    async def many(self, ids: list[str]) -> list[Doc]:
        return [doc async for doc in self.collection.find({"_id": {"$in": ids}}, HIDE)]

    async def hosted_by(self, ce_number: str) -> list[Doc]:
        return [doc async for doc in self.collection.find({"host_ce_number": ce_number}, HIDE).sort("name", 1)]

    async def listing(self, query: Doc, limit: int = 500) -> list[Doc]:
        return [doc async for doc in self.collection.find(query, HIDE).sort("name", 1).limit(limit)]

    async def of_cycle(self, cycle_start_year: int) -> list[Doc]:
        return [doc async for doc in self.collection.find({"cycle_start_year": cycle_start_year}, HIDE).sort("name", 1)]

    async def set_host(self, studio_id: str, fields: Doc) -> bool:
        result = await self.collection.update_one({"_id": studio_id}, {"$set": fields})
        return result.matched_count == 1

    async def take_seat(self, studio_id: str, counter: str, cap: int) -> bool:
        """Raise ``counter`` by one unless it reached ``cap``: the quota, under any concurrency."""
        result = await self.collection.update_one({"_id": studio_id, counter: {"$lt": cap}}, {"$inc": {counter: 1}})
        return result.modified_count == 1

    async def hold_seat(self, studio_id: str, counter: str, cap: int, holder: str, at_ms: int) -> bool:
        """Take one seat of ``counter`` (never past ``cap``) for application ``holder``, and note the hold
        in the same write (``seat_holds.<holder>``), so a seat whose application was never marked admitted
        (the process died between the two writes) can be found and given back. False when full or when
        ``holder`` holds a seat already."""
        result = await self.collection.update_one(
            {"_id": studio_id, counter: {"$lt": cap}, f"seat_holds.{holder}": {"$exists": False}},
            {"$inc": {counter: 1}, "$set": {f"seat_holds.{holder}": {"counter": counter, "at_ms": at_ms}}},
        )
        return result.modified_count == 1

    async def give_back_hold(self, studio_id: str, holder: str, counter: str) -> bool:
        """The seat ``holder`` held, given back once (the hold's presence guards the decrement)."""
        result = await self.collection.update_one(
            {"_id": studio_id, f"seat_holds.{holder}": {"$exists": True}},
            {"$unset": {f"seat_holds.{holder}": ""}, "$inc": {counter: -1}},
        )
        return result.modified_count == 1

    async def settle_hold(self, studio_id: str, holder: str) -> None:
        """The application is admitted: its seat is a member's now, the hold is forgotten."""
        await self.collection.update_one(
            {"_id": studio_id, f"seat_holds.{holder}": {"$exists": True}}, {"$unset": {f"seat_holds.{holder}": ""}}
        )

    async def holds_seat(self, studio_id: str, holder: str) -> bool:
        found = await self.collection.find_one(
            {"_id": studio_id, f"seat_holds.{holder}": {"$exists": True}}, {"_id": 1}
        )
        return found is not None

    async def with_holds(self) -> list[Doc]:
        return [doc async for doc in self.collection.find({"seat_holds": {"$exists": True}}, {"seat_holds": 1})]

    async def release_seat(self, studio_id: str, counter: str) -> None:
        await self.collection.update_one({"_id": studio_id, counter: {"$gt": 0}}, {"$inc": {counter: -1}})
