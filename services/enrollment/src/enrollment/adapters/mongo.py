"""Mongo collections of enrollment and their indexes (the store enforces the invariants)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

SCHOOLS = "schools"
TEACHERS = "teachers"
ACCOUNTS = "accounts"
COUNTERS = "counters"

#: Collections whose documents carry an outbox the relay publishes.
OUTBOX_COLLECTIONS = (SCHOOLS, TEACHERS, ACCOUNTS)


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[SCHOOLS].create_index([("district", ASCENDING), ("name", ASCENDING)], unique=True, name="district_name")
    await db[TEACHERS].create_index("id_number", unique=True, name="id_number")
    await db[TEACHERS].create_index("school_id", name="school")
    await db[TEACHERS].create_index("mobile", name="mobile")
    await db[ACCOUNTS].create_index("username", unique=True, name="username")
    await db[ACCOUNTS].create_index("mobile", name="mobile")


async def next_sequence(db: AsyncDatabase[dict[str, Any]], name: str) -> int:
    """An atomic counter: concurrent callers each get a different number."""
    doc = await db[COUNTERS].find_one_and_update(
        {"_id": name}, {"$inc": {"value": 1}}, upsert=True, return_document=ReturnDocument.AFTER
    )
    assert doc is not None
    return int(doc["value"])
