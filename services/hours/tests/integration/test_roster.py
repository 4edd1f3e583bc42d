"""The roster read copy: per-aspect stamps move forward only, one teacher's change never touches another
teacher, and documents written before both stamps existed still take changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hours.bootstrap import Container

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PLACEMENT = {"school_id": "s9", "school_name": "九中", "district": "海珠区"}


async def test_a_registration_never_changes_another_teacher(container: Container) -> None:
    # A transfer that arrives before its registration leaves a document with a placement stamp only.
    await container.teachers.upsert_many([("2026000201", PLACEMENT, T0)])
    await container.teachers.upsert_many(
        [("2026000202", {"name": "林老师", "school_id": "s1", "school_name": "一小", "district": "天河区"}, T0)]
    )
    first = await container.teachers.get("2026000201")
    second = await container.teachers.get("2026000202")
    assert first is not None and "name" not in first and first["school_id"] == "s9"
    assert second is not None and second["name"] == "林老师" and second["school_id"] == "s1"


async def test_aspects_move_forward_only_within_and_across_batches(container: Container) -> None:
    ce = "2026000203"
    later, earlier = T0 + timedelta(days=2), T0
    await container.teachers.upsert_many(
        [
            (ce, PLACEMENT, later),  # the transfer first
            (ce, {"name": "周老师", "school_id": "s1", "school_name": "一小", "district": "天河区"}, earlier),
            (ce, {"name": "周老师", "school_id": "s1", "school_name": "一小", "district": "天河区"}, earlier),
        ]
    )
    await container.teachers.upsert_many([(ce, {"name": "周新", **PLACEMENT}, earlier)])  # stale: changes nothing
    doc = await container.teachers.get(ce)
    assert doc is not None and doc["name"] == "周老师" and doc["school_id"] == "s9"
    await container.teachers.upsert_many([(ce, {"name": "周新", "school_id": "s2"}, later + timedelta(days=1))])
    doc = await container.teachers.get(ce)
    assert doc is not None and (doc["name"], doc["school_id"]) == ("周新", "s2")


async def test_a_document_without_stamps_takes_changes(container: Container) -> None:
    await container.teachers.teachers.insert_one({"_id": "2026000204", "name": "旧", "school_id": "s0"})
    await container.teachers.upsert_many(
        [("2026000204", {"name": "吴老师", **PLACEMENT}, T0), ("2026000205", {"name": "郑老师", **PLACEMENT}, T0)]
    )
    doc = await container.teachers.get("2026000204")
    other = await container.teachers.get("2026000205")
    assert doc is not None and (doc["name"], doc["school_id"]) == ("吴老师", "s9")
    assert other is not None and other["name"] == "郑老师"
