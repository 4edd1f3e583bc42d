from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from studio.adapters import community, research_logs

STUDIOS = "studios"
RECRUITMENTS = "recruitments"
APPLICATIONS = "applications"  # one per teacher and recruitment; an admitted one is the membership
STAGES = "stages"
ACTIVITIES = "activities"
PARTS = "participation"  # one document per (activity, participant, part done); check-ins are part "checkin"
BULLETINS = "bulletins"
FILES = "files"
SUBMISSIONS = "submissions"
POSTS = "posts"  # resources, articles, achievements
FUNDS = "funds"  # one per studio and year
INDICATORS = "indicators"
EVALUATIONS = "evaluations"
EVALUATION_QUOTAS = "evaluation_quotas"  # excellent grades given per (studio, period)
DIRECTORY = "teacher_directory"  # names and schools of teachers, kept from enrollment's events

OUTBOX_COLLECTIONS: tuple[str, ...] = (APPLICATIONS, ACTIVITIES, EVALUATIONS, *community.OUTBOX_COLLECTIONS)


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    for name in (
        community.RESOURCES,
        community.TOPICS,
    ):  # the flag every earning write tests by equality (adapters.community)
        await db[name].update_many({"workshop_hidden": {"$exists": False}}, {"$set": {"workshop_hidden": False}})
    await db[DIRECTORY].create_index("school_id", name="school")
    await db[STUDIOS].create_index("host_ce_number", name="host")
    await db[STUDIOS].create_index("cycle_start_year", name="cycle")
    await db[RECRUITMENTS].create_index("cycle_start_year", name="cycle")
    await db[APPLICATIONS].create_index([("studio_id", 1), ("status", 1)], name="studio_status")
    await db[APPLICATIONS].create_index("ce_number", name="teacher")
    for k in (1, 2, 3):
        await db[APPLICATIONS].create_index(f"prefs.{k}", name=f"pref_{k}")
    # One membership per teacher and cycle, whatever the recruitment: set only when admitted as member.
    await db[APPLICATIONS].create_index("member_key", name="one_member_per_cycle", unique=True, sparse=True)
    await db[STAGES].create_index("studio_id", name="studio")
    await db[ACTIVITIES].create_index([("studio_id", 1), ("status", 1)], name="studio_status")
    await db[ACTIVITIES].create_index("real_pending_ms", name="real_pending")  # the worker's repair reads it
    await db[PARTS].create_index([("activity_id", 1), ("part", 1)], name="activity_part")
    await community.ensure_indexes(db)
    await research_logs.ensure_indexes(db)
    await db[BULLETINS].create_index([("studio_id", 1), ("kind", 1)], name="studio_kind")
    # The regulation and each year's annual plan are one per studio.
    await db[BULLETINS].create_index("slot", name="one_per_slot", unique=True, sparse=True)
    await db[EVALUATIONS].create_index([("studio_id", 1), ("period", 1)], name="studio_period")
    await db[FILES].create_index("studio_id", name="studio")
    await db[POSTS].create_index([("studio_id", 1), ("kind", 1), ("status", 1)], name="studio_kind_status")
    await db[SUBMISSIONS].create_index([("activity_id", 1), ("part", 1)], name="activity_part")
