"""Collections of the hours service."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

TEACHERS = "teachers"  # hours accounts, opened from enrollment's TeacherRegistered
LEDGER = "ledger"

OUTBOX_COLLECTIONS: tuple[str, ...] = (TEACHERS, LEDGER)


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[LEDGER].create_index([("ce_number", 1), ("year", 1)], name="teacher_year")
    await db[TEACHERS].create_index("school_id", name="school")
