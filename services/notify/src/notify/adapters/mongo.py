from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

CONTACTS = "contacts"
MESSAGES = "messages"
SMS_SINK = "sms_sink"

OUTBOX_COLLECTIONS: tuple[str, ...] = (MESSAGES,)


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[MESSAGES].create_index([("to", 1), ("created_at", -1)], name="to_created")
    await db[CONTACTS].create_index("mobile", name="mobile")
    await db[SMS_SINK].create_index("to", name="to")
