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

    Returns whether anything was written. An older or repeated event changes nothing.

    No ``$or`` in the filter: with ``upsert=True`` the embedded store (nx-27017 0.8.1) applied
    ``{"_id": k, "$or": [..., {"f": {"$exists": False}}]}`` to *another* document lacking ``f``, i.e.
    another teacher's copy was overwritten (pinned in tests/store_contract). A document written
    without a stamp (by another path) is matched by ``as_of_ms: None`` on its own ``_id`` instead."""
    stamp = epoch_ms(as_of)
    update = {"$set": {**fields, "as_of_ms": stamp}}
    for _ in range(_ATTEMPTS):
        try:
            result = await collection.update_one({"_id": key, "as_of_ms": {"$lt": stamp}}, update, upsert=True)
        except DuplicateKeyError:
            pass  # the document exists and is not older than ours, or it has no stamp
        else:
            return result.modified_count == 1 or result.upserted_id is not None
        unstamped = await collection.update_one({"_id": key, "as_of_ms": None}, update)
        if unstamped.modified_count == 1:
            return True
        current = await collection.find_one({"_id": key}, {"as_of_ms": 1})
        if current is not None and current.get("as_of_ms") is not None and current["as_of_ms"] >= stamp:
            return False
        # changed between our writes (inserted older, or removed): try again
    return False


#: Rounds of the write above before giving up; each lost round means a concurrent writer changed the
#: same document in between, so a few are plenty.
_ATTEMPTS = 5
