from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

STUDIOS = "studios"
DIRECTORY = "teacher_directory"  # names and schools of teachers, kept from enrollment's events

OUTBOX_COLLECTIONS: tuple[str, ...] = ()


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[DIRECTORY].create_index("school_id", name="school")
    await db[STUDIOS].create_index("host_ce_number", name="host")
