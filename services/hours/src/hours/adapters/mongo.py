"""Collections of the hours service and their indexes."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

TEACHERS = "teachers"  # read copy of enrollment's roster (school and district scope)
LEDGER = "ledger"  # one entry per hour-granting fact; unique on its source key
TEACHER_YEARS = "teacher_years"  # per teacher and year: cap counters, grants, entries not yet in the ledger
REGISTRATIONS = "registrations"  # claims of (registrant, reference)
RULES = "rules"  # one document per year
POINTS = "points_accounts"  # per teacher and year: balance, per-item earnings, facts, redemptions
DECLARATIONS = "declarations"
VERIFICATIONS = "verifications"  # last stored annual verification per teacher and year
COMPLAINTS = "complaints"
CYCLES = "cycles"
PROOFS = "proofs"  # sealed proof files of 学习强国 registrations

OUTBOX_COLLECTIONS: tuple[str, ...] = (LEDGER, POINTS, DECLARATIONS, VERIFICATIONS)


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[LEDGER].create_index("source_key", unique=True, name="source_key")
    await db[LEDGER].create_index([("ce_number", 1), ("year", 1)], name="teacher_year")
    await db[LEDGER].create_index("year", name="year")
    await db[TEACHERS].create_index("school_id", name="school")
    await db[TEACHERS].create_index("district", name="district")
    await db[TEACHER_YEARS].create_index("pending_count", name="pending")
    await db[POINTS].create_index([("year", 1), ("closed", 1)], name="year_closed")
    await db[DECLARATIONS].create_index([("ce_number", 1), ("year", 1)], name="teacher_year")
    await db[DECLARATIONS].create_index([("school_id", 1), ("status", 1)], name="school_status")
    await db[VERIFICATIONS].create_index([("year", 1), ("school_id", 1)], name="year_school")
    await db[COMPLAINTS].create_index([("district", 1), ("year", 1)], name="district_year")
