"""The term report's learning tables (表4, 表12 by district, 表13 by the teacher's subject) and the
community's .xlsx exports: computed from workshops, segments done, assignments and recommendations, scoped."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

from community_support import CENTRE, T0, approved_workshop, community, teacher
from openpyxl import load_workbook
from test_workshop_activities import activity, code_of

from jijiao_kit.auth import Principal
from jijiao_stack.pytest_plugin import api_client, bearer
from studio.entrypoints.api.app import create_app

DISTRICT = Principal(subject="d", roles=frozenset({"district_admin"}), scopes={"district": "天河区"})
TEACHERS = {  # ce: (district, subject)
    "1000": ("天河区", "语文"),
    "1001": ("天河区", "数学"),
    "1002": ("天河区", "语文"),
    "1003": ("越秀区", "语文"),
    "1004": ("越秀区", "数学"),
}


async def _seed(settings_env: dict[str, Any], tmp_path: Path) -> Any:
    c = await community(settings_env, tmp_path)
    for ce, (district, subject) in {**TEACHERS, "9001": ("海珠区", "语文")}.items():
        fields = {"name": f"教师{ce}", "subject": subject, "school_id": f"s{ce}", "district": district}
        await c.directory.record(ce, fields, T0)
    wid = await approved_workshop(c)  # host 9001: a trainer, not counted
    await asyncio.gather(*(c.community.join(teacher(ce), wid) for ce in TEACHERS))
    act = await c.workshop_activities.create(teacher("9001"), wid, activity())
    aid, seg = act["_id"], act["segments"][0]["id"]
    await asyncio.gather(
        *(c.workshop_activities.do_part(teacher(ce), wid, aid, seg) for ce in ("1000", "1001", "1003"))
    )
    await c.workshop_activities.do_part(teacher("9001"), wid, aid, seg)
    for ce in ("1000", "1003"):
        await c.workshop_activities.hand_in(teacher(ce), wid, aid, "<p>作业</p>")
    await c.workshop_activities.recommend(teacher("9001"), wid, aid, "1000")
    # graded: 1000 合格; 1003 合格, then 不合格 by the centre (the last grade wins)
    await c.workshop_activities.grade(teacher("9001"), wid, aid, f"{aid}:1000:assignment", True)
    await c.workshop_activities.grade(teacher("9001"), wid, aid, f"{aid}:1003:assignment", True)
    await c.workshop_activities.grade(CENTRE, wid, aid, f"{aid}:1003:assignment", False)
    return c


async def test_by_district_and_by_subject_as_the_seed_defines_them(
    settings_env: dict[str, Any], tmp_path: Path
) -> None:
    c = await _seed(settings_env, tmp_path)
    rows = {r["group"]: r for r in await c.community.learning(CENTRE, "district")}
    assert list(rows) == ["天河区", "越秀区", "总计"]
    assert rows["天河区"] == {
        "group": "天河区",
        "participants": 3,
        "studied": 2,
        "learning_rate": "66.67%",
        "passed": 1,
        "pass_rate": "50.00%",
        "works": 1,
    }
    # 通过人数: an assignment graded 合格 (越秀区's 1003 handed one in, graded 不合格 last: not passed)
    assert (rows["越秀区"]["studied"], rows["越秀区"]["passed"], rows["越秀区"]["works"]) == (1, 0, 1)
    total = rows["总计"]
    assert (total["participants"], total["studied"], total["passed"], total["works"]) == (5, 3, 1, 2)
    assert total["learning_rate"] == "60.00%" and total["pass_rate"] == "33.33%"

    by_subject = {r["group"]: r for r in await c.community.learning(CENTRE, "subject")}
    assert (by_subject["语文"]["participants"], by_subject["语文"]["passed"]) == (3, 1)
    assert (by_subject["数学"]["participants"], by_subject["数学"]["passed"]) == (2, 0)
    assert by_subject["数学"]["pass_rate"] == "0.00%"

    mine = await c.community.learning(DISTRICT, "district")  # a district admin: their district only
    assert [r["group"] for r in mine] == ["天河区", "总计"] and mine[-1]["participants"] == 3
    assert await code_of(c.community.learning(teacher("1000"), "district")) == "not_moderator"


async def test_assignment_tables_12_and_13(settings_env: dict[str, Any], tmp_path: Path) -> None:
    c = await _seed(settings_env, tmp_path)
    acts = c.workshop_activities
    by_district = await acts.assignment_statistics(CENTRE, "district")  # 表12
    assert [r["group"] for r in by_district] == ["天河区", "越秀区", "总计"]
    assert by_district[0] == {
        "group": "天河区",
        "participants": 3,
        "submitted": 1,
        "submission_rate": "33.33%",
        "passed": 1,
        "pass_rate": "100%",
        "recommended": 1,
        "excellent_rate": "100%",
    }
    assert (by_district[1]["submitted"], by_district[1]["recommended"], by_district[1]["excellent_rate"]) == (
        1,
        0,
        "0.00%",
    )
    assert (by_district[1]["passed"], by_district[1]["pass_rate"]) == (0, "0.00%")  # graded 不合格 last
    assert (by_district[-1]["submitted"], by_district[-1]["passed"], by_district[-1]["pass_rate"]) == (2, 1, "50.00%")
    assert by_district[-1]["participants"] == 5 and by_district[-1]["submission_rate"] == "40.00%"
    by_subject = {r["group"]: r for r in await acts.assignment_statistics(CENTRE, "subject")}  # 表13
    assert list(by_subject) == ["语文", "数学", "合计"]
    assert (by_subject["语文"]["participants"], by_subject["语文"]["submitted"]) == (3, 2)
    assert by_subject["数学"]["pass_rate"] == "-"  # nothing submitted
    mine = await acts.assignment_statistics(DISTRICT, "subject")
    assert [r["group"] for r in mine] == ["语文", "数学", "合计"] and mine[-1]["participants"] == 3
    assert await code_of(acts.assignment_statistics(teacher("1000"), "district")) == "not_moderator"


async def test_exports_carry_the_seed_columns_and_keep_user_text_as_text(
    settings_env: dict[str, Any], tmp_path: Path, make_token: Any
) -> None:
    c = await _seed(settings_env, tmp_path)
    await c.directory.record("1004", {"district": '=HYPERLINK("http://x")'}, T0.replace(hour=9))
    centre = bearer(make_token("remote_centre"))
    async with api_client(create_app(c)) as client:
        answer = await client.get("/v1/community/statistics/learning.xlsx", params={"by": "district"}, headers=centre)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
        sheet = load_workbook(io.BytesIO(answer.content)).active
        assert sheet is not None
        values = [[cell.value for cell in row] for row in sheet.iter_rows()]
        assert values[0] == ["区域", "选修人数", "学习人数", "学习率(%)", "通过人数", "通过率(%)", "作品提交情况"]
        assert values[1] == ["天河区", 3, 2, "66.67%", 1, "50.00%", 1]
        formula_row = next(row for row in sheet.iter_rows(min_row=2) if "HYPERLINK" in str(row[0].value))
        assert formula_row[0].data_type == "s"  # stored as text, never a formula
        assert values[-1][0] == "总计" and values[-1][1] == 5

        table_12 = await sheet_of(client, "/v1/community/statistics/assignments.xlsx?by=district", centre)
        assert table_12[0] == ["区域", "参训人数", "研修作业提交数", "研修作业提交率", "研修作业合格数",
                               "研修作业合格率", "推荐优秀数", "推荐优秀率"]  # fmt: skip
        assert table_12[1] == ["天河区", 3, 1, "33.33%", 1, "100%", 1, "100%"]
        assert table_12[-1] == ["总计", 5, 2, "40.00%", 1, "50.00%", 1, "50.00%"]
        table_13 = await sheet_of(client, "/v1/community/statistics/assignments.xlsx?by=subject", centre)
        assert table_13[0] == ["学科 (教师个人信息表的学科)", "参训人数", "研修作业提交数", "研修作业提交率",
                               "研修作业合格数", "研修作业合格率", "推荐优秀数", "推荐优秀率"]  # fmt: skip
        assert [row[0] for row in table_13[1:]] == ["语文", "数学", "合计"]
        table_4_by_subject = await sheet_of(client, "/v1/community/statistics/learning.xlsx?by=subject", centre)
        assert table_4_by_subject[0][0] == "学科(教师个人信息表的学科)" and table_4_by_subject[0][-1] == "作品提交情况"

        for path, header in (
            ("/v1/community/statistics/subjects.xlsx", "学科"),
            ("/v1/community/statistics/satisfaction.xlsx", "满意程度"),
        ):
            answer = await client.get(path, headers=centre)
            assert answer.status_code == 200, answer.text
            sheet = load_workbook(io.BytesIO(answer.content)).active
            assert sheet is not None and sheet.cell(1, 1).value == header

        teacher_token = bearer(make_token("teacher", ce_number="1000"))
        for path in ("/v1/community/statistics/learning.xlsx", "/v1/community/statistics/assignments.xlsx"):
            refused = await client.get(path, headers=teacher_token)
            assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"


async def sheet_of(client: Any, path: str, headers: dict[str, str]) -> list[list[Any]]:
    answer = await client.get(path, headers=headers)
    assert answer.status_code == 200, answer.text
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    return [[cell.value for cell in row] for row in sheet.iter_rows()]
