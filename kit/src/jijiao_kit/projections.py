"""Local read copies of other services' data (a teacher directory, a contact book), kept current
from events. Safe under redelivery and reordering: a copy only moves forward in ``occurred_at``,
compared as epoch milliseconds (``as_of_ms``), a form every store compares the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from jijiao_kit.timeutil import epoch_ms


async def upsert_newer(
    collection: AsyncCollection[dict[str, Any]], key: str, fields: dict[str, Any], as_of: datetime
) -> bool:
    """Write ``fields`` into document ``key`` unless it already holds the same or a newer state.

    Returns whether anything was written. An older or repeated event changes nothing."""
    stamp = epoch_ms(as_of)
    try:
        result = await collection.update_one(
            {"_id": key, "$or": [{"as_of_ms": {"$lt": stamp}}, {"as_of_ms": {"$exists": False}}]},
            {"$set": {**fields, "as_of_ms": stamp}},
            upsert=True,
        )
    except DuplicateKeyError:
        return False  # the document exists with as_of_ms >= ours, so the upsert's insert collided
    return result.modified_count == 1 or result.upserted_id is not None
