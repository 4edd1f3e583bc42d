"""Local read copies of other services' data (a teacher directory, a contact book), kept current
from events. Safe under redelivery and reordering: a copy only moves forward in ``occurred_at``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError


async def upsert_newer(
    collection: AsyncCollection[dict[str, Any]], key: str, fields: dict[str, Any], as_of: datetime
) -> bool:
    """Write ``fields`` into document ``key`` unless it already holds a newer state.

    Returns whether anything was written. An older or repeated event changes nothing."""
    try:
        result = await collection.update_one(
            {"_id": key, "$or": [{"as_of": {"$lt": as_of}}, {"as_of": {"$exists": False}}]},
            {"$set": {**fields, "as_of": as_of}},
            upsert=True,
        )
    except DuplicateKeyError:
        return False  # the document exists with as_of >= ours, so the upsert's insert collided
    return result.modified_count == 1 or result.upserted_id is not None
