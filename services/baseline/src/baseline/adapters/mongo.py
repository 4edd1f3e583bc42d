from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

ZONES = "zones"
BASES = "bases"
YEARS = "years"  # academic years: deadlines, rewards (at most two, one document)
QUOTAS = "quotas"  # one document per zone and year: the counters a demand and an allocation reserve
STAGES = "stage_places"  # one document per year and stage: places offered and still free for demands
BATCHES = "batches"  # a batch, its allocations to zones and each zone's trainees (one document)
DEMANDS = "demands"
REFLECTIONS = "reflections"
OUTCOMES = "outcomes"
SHARINGS = "sharings"  # one document per trainee: the sharing session (分享报告) in their zone after the stay
COUNTERS = "counters"
DIRECTORY = "teacher_directory"  # names and schools of teachers, kept from enrollment's events

OUTBOX_COLLECTIONS: tuple[str, ...] = (ZONES, DEMANDS, BATCHES, YEARS, REFLECTIONS, OUTCOMES)


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[DIRECTORY].create_index("school_id", name="school")
    await db[ZONES].create_index("name", unique=True, name="name")
    await db[BASES].create_index("name", unique=True, name="name")
    await db[BATCHES].create_index([("year", 1), ("stage", 1), ("start_ms", 1)], name="year_stage")
    await db[DEMANDS].create_index([("year", 1), ("sequence", 1)], name="year_sequence")
    await db[DEMANDS].create_index([("year", 1), ("zone_id", 1)], name="year_zone")
    await db[REFLECTIONS].create_index([("trainee_id", 1)], name="trainee")
    await db[REFLECTIONS].create_index([("year", 1), ("excellent", 1)], name="year_excellent")
    await db[OUTCOMES].create_index([("year", 1), ("zone_id", 1)], name="year_zone")
    await db[SHARINGS].create_index([("year", 1), ("zone_id", 1)], name="year_zone")


async def next_sequence(db: AsyncDatabase[dict[str, Any]], name: str) -> int:
    """An atomic counter: concurrent callers each get a different number (the submission order)."""
    from pymongo import ReturnDocument

    doc = await db[COUNTERS].find_one_and_update(
        {"_id": name}, {"$inc": {"value": 1}}, upsert=True, return_document=ReturnDocument.AFTER
    )
    assert doc is not None
    return int(doc["value"])


IMAGES = "reflection_images"
#: One document per trainee (``_id``: the trainee id): how many reflections and images they hold and the
#: id of each (``reflection_ids.<id>`` / ``image_ids.<id>``: when its slot was taken, epoch ms).
WRITINGS = "trainee_writings"
