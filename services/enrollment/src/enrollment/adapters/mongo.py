"""Mongo collections of enrollment and their indexes (the store enforces the invariants)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

SCHOOLS = "schools"
TEACHERS = "teachers"
ACCOUNTS = "accounts"
COUNTERS = "counters"
TRANSFERS = "transfers"  # 教师调动申请
TERMS = "terms"
COURSES = "courses"
SELECTIONS = "selections"
CARTS = "carts"  # 购物车 per term x teacher
ABILITY_PILOTS = "ability_pilots"  # pilot districts x subjects per term
ABILITY_PLANS = "ability_plans"  # diagnostic attempts and the confirmed ability plan
ABILITY_RETAKES = "ability_retakes"  # 重修 per term x teacher x course
COURSE_RATINGS = "course_ratings"  # one rating per term x course x teacher (好评)
SPECIAL_APPLICATIONS = "special_applications"  # 专项培训 applications and their reviews

BILLS = "bills"  # 账单 per term x school x payee
SPECIAL_USER_PROOFS = "special_user_proofs"  # school-sealed proof files
ANNOUNCEMENTS = "announcements"  # 公告 from the city, districts and schools

#: Collections whose documents carry an outbox the relay publishes.
OUTBOX_COLLECTIONS = (SCHOOLS, TEACHERS, ACCOUNTS, TERMS, SELECTIONS, COURSES, BILLS, TRANSFERS)


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[SCHOOLS].create_index([("district", ASCENDING), ("name", ASCENDING)], unique=True, name="district_name")
    await db[TEACHERS].create_index("id_number", unique=True, name="id_number")
    await db[TEACHERS].create_index("school_id", name="school")
    await db[TEACHERS].create_index("mobile", name="mobile")
    await db[ACCOUNTS].create_index("username", unique=True, name="username")
    await db[ACCOUNTS].create_index("mobile", name="mobile")
    # roster — one open transfer per teacher; lookups per school, approver and lock state
    await db[TRANSFERS].create_index("open_key", unique=True, sparse=True, name="open_key")
    await db[TRANSFERS].create_index([("to_school_id", ASCENDING), ("applied_at", ASCENDING)], name="to_school")
    await db[TRANSFERS].create_index([("from_school_id", ASCENDING), ("applied_at", ASCENDING)], name="from_school")
    await db[TRANSFERS].create_index([("status", ASCENDING), ("approver_level", ASCENDING)], name="status_level")
    await db[TEACHERS].create_index([("district", ASCENDING), ("status", ASCENDING)], name="district_status")
    await db[ACCOUNTS].create_index("scopes.school_id", name="school")
    # terms, catalogue, selection (one active selection per teacher x course x term)
    await db[SELECTIONS].create_index("active_key", unique=True, sparse=True, name="active_key")
    await db[SELECTIONS].create_index([("term", ASCENDING), ("ce_number", ASCENDING)], name="term_teacher")
    await db[COURSES].create_index([("term", ASCENDING), ("programme", ASCENDING)], name="term_programme")
    await db[ABILITY_RETAKES].create_index([("term", ASCENDING), ("ce_number", ASCENDING)], name="term_teacher")

    # bills, payments, results, statistics
    await db[BILLS].create_index([("term", ASCENDING), ("school_id", ASCENDING)], name="term_school")
    await db[BILLS].create_index([("term", ASCENDING), ("district", ASCENDING)], name="term_district")
    await db[SELECTIONS].create_index("bill_id", name="bill")
    await db[SELECTIONS].create_index([("term", ASCENDING), ("school_id", ASCENDING)], name="term_school")
    await db[SELECTIONS].create_index([("term", ASCENDING), ("course_code", ASCENDING)], name="term_course")
    await db[SPECIAL_USER_PROOFS].create_index("ce_numbers", name="ce_numbers")
    await db[ANNOUNCEMENTS].create_index([("status", ASCENDING), ("published_ms", ASCENDING)], name="published")


async def next_sequence(db: AsyncDatabase[dict[str, Any]], name: str) -> int:
    """An atomic counter: concurrent callers each get a different number."""
    doc = await db[COUNTERS].find_one_and_update(
        {"_id": name}, {"$inc": {"value": 1}}, upsert=True, return_document=ReturnDocument.AFTER
    )
    assert doc is not None
    return int(doc["value"])
