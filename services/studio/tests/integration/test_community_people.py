"""Assigned workshop hosts, research assistants (one per school and subject) and their work, supervisors'
recommendations."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

from community_support import CENTRE, T0, approved_workshop, community, facts, teacher
from openpyxl import load_workbook

from jijiao_kit.auth import Principal
from jijiao_kit.errors import AppError
from jijiao_stack.pytest_plugin import api_client, bearer
from studio.bootstrap import Container
from studio.entrypoints.api.app import create_app
from studio.service_layer.community import NewWorkshop

DISTRICT = Principal(subject="d", roles=frozenset({"district_admin"}), scopes={"district": "天河区"})
OTHER_DISTRICT = Principal(subject="d2", roles=frozenset({"district_admin"}), scopes={"district": "越秀区"})
SUPERVISOR = Principal(subject="s", roles=frozenset({"research_office"}))


async def code_of(call: Any) -> str:
    try:
        await call
    except AppError as exc:
        return exc.code
    return "ok"


async def schools(c: Container) -> None:
    """The directory places schools s1..s3 in 天河区 and s9 in 越秀区 (by a teacher of each)."""
    for n, (school, district) in enumerate({"s1": "天河区", "s2": "天河区", "s3": "天河区", "s9": "越秀区"}.items()):
        await c.directory.record(f"80{n}", {"name": f"教师{n}", "school_id": school, "district": district}, T0)


async def test_assigned_hosts_assistants_and_recommendations(settings_env: dict[str, Any], tmp_path: Path) -> None:
    c = await community(settings_env, tmp_path)
    await schools(c)
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
    assert hosted["recommended_by"] == "9001" and hosted["district"] == "天河区"  # the school's, from the directory
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
    rows = await people.assistant_statistics(DISTRICT)
    assert [r["district"] for r in rows] == ["天河区", "合计"]
    assert rows[0] == {
        "district": "天河区",
        "configured": 2,
        "completed": 0,  # one of two tasks done: the work is not complete
        "tasks_assigned": 2,
        "tasks_completed": 1,
        "completion_rate": "0.00%",
    }
    t2 = next(iter((await people.assistants.get(assistant["_id"]) or {})["tasks"].keys() - {t1["id"]}))
    await people.complete_task(teacher(assistant["ce_number"]), assistant["_id"], t2)
    rows = await people.assistant_statistics(DISTRICT)
    assert (rows[0]["completed"], rows[0]["completion_rate"]) == (1, "50.00%")  # 完成工作数 / 配置助理数
    assert (rows[-1]["configured"], rows[-1]["completed"], rows[-1]["completion_rate"]) == (2, 1, "50.00%")

    await people.recommend(SUPERVISOR, "resource", "r1", "设计新颖")
    await people.recommend(SUPERVISOR, "school", "s1", "")
    assert await code_of(people.recommend(teacher("1000"), "school", "s1", "")) == "not_supervisor"
    assert await code_of(people.recommend(SUPERVISOR, "teacher", "x", "")) == "invalid_recommendation"
    assert [r["target"] for r in await people.list_recommendations(CENTRE, "resource")] == ["r1"]


async def test_only_hosts_of_approved_visible_workshops_and_admins_of_the_schools_district_select(
    settings_env: dict[str, Any], tmp_path: Path
) -> None:
    c = await community(settings_env, tmp_path)
    await schools(c)
    people = c.community_people
    pending = await c.community.apply_workshop(teacher("9005"), NewWorkshop("待审工作坊", "", "语文", "小学"))
    assert (
        await code_of(
            people.select_assistant(
                teacher("9005"), ce_number="7", school_id="s1", subject="语文", workshop_id=pending["_id"]
            )
        )
        == "not_district_admin"
    )
    hidden = await approved_workshop(c, host="9006")
    await c.community.hide_workshop(CENTRE, hidden, True)
    assert (
        await code_of(
            people.select_assistant(teacher("9006"), ce_number="7", school_id="s1", subject="语文", workshop_id=hidden)
        )
        == "not_district_admin"
    )
    # a district admin configures the schools of their district only; another district's school, or one the
    # directory does not know, is not found (nothing about it told)
    for school in ("s9", "nowhere"):
        assert (
            await code_of(people.select_assistant(DISTRICT, ce_number="7", school_id=school, subject="语文"))
            == "school_not_found"
        )
    assert await people.assistants.get("s9:语文") is None
    mine = await people.select_assistant(OTHER_DISTRICT, ce_number="7", school_id="s9", subject="语文")
    assert mine["district"] == "越秀区"
    assert await people.assistant_statistics(DISTRICT) == [
        {
            "district": "合计",
            "configured": 0,
            "completed": 0,
            "tasks_assigned": 0,
            "tasks_completed": 0,
            "completion_rate": "-",
        }
    ]


async def test_table_10_export_has_the_seed_columns_and_total(
    settings_env: dict[str, Any], tmp_path: Path, make_token: Any
) -> None:
    c = await community(settings_env, tmp_path)
    await schools(c)
    people = c.community_people
    for school, subject in (("s1", "语文"), ("s2", "语文"), ("s3", "数学")):
        assistant = await people.select_assistant(DISTRICT, ce_number="7", school_id=school, subject=subject)
        task = await people.assign_task(DISTRICT, assistant["_id"], "组织校本研修")
        if school == "s1":
            await people.complete_task(teacher("7"), assistant["_id"], task["id"])
    await people.select_assistant(OTHER_DISTRICT, ce_number="8", school_id="s9", subject="语文")
    async with api_client(create_app(c)) as client:
        answer = await client.get(
            "/v1/community/statistics/assistants.xlsx", headers=bearer(make_token("remote_centre"))
        )
        assert answer.status_code == 200, answer.text
        sheet = load_workbook(io.BytesIO(answer.content)).active
        assert sheet is not None
        values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values == [
        ["区域", "配置助理数", "完成工作数", "完成比例"],
        ["天河区", 3, 1, "33.33%"],
        ["越秀区", 1, 0, "0.00%"],
        ["合计", 4, 1, "25.00%"],
    ]
