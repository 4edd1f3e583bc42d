"""A points fact keeps what it was for (the producer's title and workshop) for the teacher's points page."""

from __future__ import annotations

from datetime import UTC, datetime

from hours.adapters import points_facts

FACT = {
    "rule": "shared_resource",
    "reference": "ab" * 32,
    "source": "studio:x",
    "requested": 20,
    "points": 20,
    "reason": None,
    "at": datetime(2026, 5, 1, tzinfo=UTC),
}


def test_title_and_workshop_round_trip() -> None:
    about = {"title": "教案", "workshop_id": "w1", "workshop_name": "小学语文研修坊", "other": "dropped"}
    shown = points_facts.decode(points_facts.encode({**FACT, "about": about}), {"shared_resource": "共享资源"})
    assert (shown["title"], shown["workshop_id"], shown["workshop_name"]) == ("教案", "w1", "小学语文研修坊")
    assert shown["label"] == "共享资源" and shown["at"] == FACT["at"] and "other" not in shown


def test_facts_without_it_read_as_before() -> None:
    stored = points_facts.encode(FACT)
    assert stored.count(",") == 6  # the same seven fields as before
    shown = points_facts.decode(stored, {})
    assert shown["title"] is None and shown["points"] == 20
