"""The community's demo data: a workshop with resources and a topic, seeded once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from community_support import T0, community, facts, teacher

from studio.entrypoints.seed_community import WORKSHOP, seed


async def test_demo_workshop_with_a_resource_and_a_topic_is_seeded_once(
    settings_env: dict[str, Any], tmp_path: Path
) -> None:
    c = await community(settings_env, tmp_path)
    assert await seed(c, wait_seconds=0) is None  # no teachers yet: nothing
    for ce in ("3001", "3002", "3003"):
        await c.directory.record(ce, {"name": f"教师{ce}", "school_id": "s1"}, T0)
    wid = await seed(c, wait_seconds=0)
    assert wid is not None and await seed(c, wait_seconds=0) is None
    viewer = teacher("3002")
    workshops = await c.community.list_workshops(viewer)
    assert [w["name"] for w in workshops] == [WORKSHOP] and workshops[0]["participant_count"] == 3
    assert len(await c.community.list_resources(viewer, wid)) == 1
    (topic,) = await c.community.list_topics(viewer, wid)
    assert topic["replier_count"] == 2
    assert {f["rule"] for f in await facts(c)} == {"workshop_founded", "shared_resource"}
