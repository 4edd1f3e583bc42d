"""The demo seed gives a studio with members, stages, published activities (one organised) and bulletins."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from studio_support import CITY

from jijiao_kit.clock import FixedClock
from studio.bootstrap import build
from studio.entrypoints.seed_demo import seed
from studio.settings import Settings


async def test_demo_seed_is_complete_and_idempotent(settings_env: dict[str, Any], tmp_path: Any) -> None:
    clock = FixedClock(datetime.now(UTC))
    container = build(Settings(**settings_env, files_dir=tmp_path), clock=clock)
    for n, name in enumerate(["陈晓明", "李静", "王海燕", "赵强"]):
        await container.directory.record(
            f"202600000{n + 1}",
            {"name": name, "school_id": "s1", "school_name": "一小", "district": "天河区"},
            datetime.now(UTC),
        )
    sid = await seed(container, clock, wait_seconds=1)
    assert sid is not None and await seed(container, clock, wait_seconds=1) == sid
    studio = await container.studios.get(CITY, sid)
    assert (studio["members"], studio["students"]) == (2, 1)
    activities = await container.activities.listing(CITY, sid, None)
    assert len(activities) == 2 and all(a["status"] == "published" for a in activities)
    organised = [a for a in activities if a["organised"]]
    assert len(organised) == 1 and organised[0]["credited"] == ["2026000002", "2026000003"]
    home = await container.bulletins.home(CITY, sid)
    assert home["regulation"] and home["cycle_plan"] and len(home["annual_plans"]) == 1
