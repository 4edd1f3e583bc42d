from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

CONTACTS = "contacts"
MESSAGES = "messages"
VERIFICATIONS = "verifications"
TERMS = "terms"
#: Events of a batch of finished notices, written before the notices' status (see service_layer/outcomes.py).
OUTCOME_RECORDS = "outcome_records"

OUTBOX_COLLECTIONS: tuple[str, ...] = (MESSAGES,)


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[MESSAGES].create_index([("to", 1), ("created_at", -1)], name="to_created")
    # Due and stale scans select on ``status`` (pending/sending are few). The embedded store does not
    # use the compound (status, due_ts) index these scans had, and passed over the whole collection
    # (~100 ms at 20,000 notices, twice per scan); with a single-field index they take ~2 ms.
    await db[MESSAGES].create_index([("status", 1)], name="status")
    if "due" in await db[MESSAGES].index_information():
        await db[MESSAGES].drop_index("due")
    await db[MESSAGES].create_index([("day", 1)], name="day")
    await db[CONTACTS].create_index("mobile", name="mobile")
    await db[CONTACTS].create_index([("school_id", 1), ("is_school_admin", 1)], name="school_admins")
    await db[CONTACTS].create_index([("kind", 1), ("active", 1)], name="kind_active")
    await db[VERIFICATIONS].create_index([("subject", 1), ("created_at", -1)], name="subject_created")
    await db[OUTCOME_RECORDS].create_index([("created_ts", 1)], name="created")
