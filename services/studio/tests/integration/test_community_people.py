"""Assigned workshop hosts, research assistants (one per school and subject) and their work, supervisors'
recommendations."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from community_support import CENTRE, approved_workshop, community, facts, teacher

from jijiao_kit.auth import Principal
from jijiao_kit.errors import AppError

DISTRICT = Principal(subject="d", roles=frozenset({"district_admin"}), scopes={"district": "天河区"})
OTHER_DISTRICT = Principal(subject="d2", roles=frozenset({"district_admin"}), scopes={"district": "越秀区"})
SUPERVISOR = Principal(subject="s", roles=frozenset({"research_office"}))


async def code_of(call: Any) -> str:
    try:
        await call
    except AppError as exc:
        return exc.code
    return "ok"


async def test_assigned_hosts_assistants_and_recommendations(settings_env: dict[str, Any], tmp_path: Path) -> None:
    c = await community(settings_env, tmp_path)
    people = c.community_people
    assigned = await people.assign_workshop(
        CENTRE, name="1602研修课程·小学数学", host_ce_number="9100", course_code="R1602-07", subject="数学"
    )
    assert assigned["status"] == "approved" and assigned["host_ce_number"] == "9100"
    assert await facts(c, "workshop_founded") == []  # assigned, not founded on application
    assert (
        await code_of(people.assign_workshop(teacher("1"), name="x", host_ce_number="1", course_code="c", subject=None))
        == "workshop_not_found"
    )

    # one assistant per school and subject, also when two districts' clicks race
    results = await asyncio.gather(
        *(people.select_assistant(DISTRICT, ce_number=f"70{n}", school_id="s1", subject="数学") for n in range(5)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, dict) for r in results) == 1
    assert {r.code for r in results if isinstance(r, AppError)} == {"assistant_exists"}
    wid = await approved_workshop(c)
    hosted = await people.select_assistant(
        teacher("9001"), ce_number="7100", school_id="s2", subject="语文", workshop_id=wid
    )
    assert hosted["recommended_by"] == "9001"
    assert (
        await code_of(
            people.select_assistant(teacher("1000"), ce_number="7", school_id="s3", subject="语文", workshop_id=wid)
        )
        == "not_district_admin"
    )

    assistant = next(r for r in results if isinstance(r, dict))
    t1 = await people.assign_task(DISTRICT, assistant["_id"], "组织校本研修")
    await people.assign_task(DISTRICT, assistant["_id"], "完成作业批改")
    assert await code_of(people.assign_task(OTHER_DISTRICT, assistant["_id"], "x")) == "assistant_not_found"
    done = await asyncio.gather(
        *(people.complete_task(teacher(assistant["ce_number"]), assistant["_id"], t1["id"]) for _ in range(4)),
        return_exceptions=True,
    )
    assert sum(d is None for d in done) == 1
    (row,) = await people.assistant_statistics(DISTRICT)
    assert row == {"district": "天河区", "configured": 1, "assigned": 2, "completed": 1, "completion_rate": "50.00%"}

    await people.recommend(SUPERVISOR, "resource", "r1", "设计新颖")
    await people.recommend(SUPERVISOR, "school", "s1", "")
    assert await code_of(people.recommend(teacher("1000"), "school", "s1", "")) == "not_supervisor"
    assert await code_of(people.recommend(SUPERVISOR, "teacher", "x", "")) == "invalid_recommendation"
    assert [r["target"] for r in await people.list_recommendations(CENTRE, "resource")] == ["r1"]
