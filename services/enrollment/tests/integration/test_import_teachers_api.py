"""Excel import of teachers over HTTP: accepted rows get CE numbers through the same use case as the
API; every rejected row says why and leaves nothing behind; duplicates within the file are caught."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

sys.path.insert(0, str(Path(__file__).parent))
from roster_support import id_number, roster_env

from enrollment.adapters.teacher_sheet import template_xlsx
from jijiao_stack.pytest_plugin import id_number_with_x

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def test_import_reports_each_row_and_rejected_rows_leave_no_trace(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with roster_env(settings_env, make_token) as env:
        school = await env.school("天河一小")
        other = await env.school("天河二小")
        existing = await env.teacher(other, "已有学号")
        with_x = id_number_with_x()
        good = id_number(501)
        rows: list[dict[str, Any]] = [
            {
                "name": "陈晓明",
                "id_number": good,
                "mobile": "13900000001",
                "gender": "男",
                "stage": "小学",
                "subject": "语文",
            },
            {"name": "李静", "id_number": with_x[:-1] + "x", "mobile": 13900000002, "title": "高级教师"},
            {"name": "坏号码", "id_number": good[:-1] + ("1" if good[-1] != "1" else "2"), "mobile": "13900000003"},
            {"name": "重复行", "id_number": good, "mobile": "13900000004"},
            {"name": "已有学号", "id_number": existing["id_number"], "mobile": "13900000005"},
            {"name": None, "id_number": id_number(502), "mobile": "13900000006"},
            {"name": "坏手机", "id_number": id_number(503), "mobile": "2390000000"},
            {"name": "坏学段", "id_number": id_number(504), "mobile": "13900000007", "stage": "大学"},
        ]
        response = await env.client.post(
            f"/v1/schools/{school['id']}/teachers/import",
            content=template_xlsx(rows),
            headers={**env.school_admin(school), "Content-Type": XLSX},
        )
        foreign = await env.client.post(
            f"/v1/schools/{school['id']}/teachers/import",
            content=template_xlsx(rows),
            headers={**env.school_admin(other), "Content-Type": XLSX},
        )
        garbage = await env.client.post(
            f"/v1/schools/{school['id']}/teachers/import",
            content=b"not a workbook",
            headers={**env.school_admin(school), "Content-Type": XLSX},
        )
        template = await env.client.get(
            f"/v1/schools/{school['id']}/teachers/import-template", headers=env.school_admin(school)
        )
        in_school = [doc async for doc in env.db["teachers"].find({"school_id": school["id"]})]
        total = await env.db["teachers"].count_documents({})
    assert response.status_code == 200, response.text
    report = response.json()
    assert [(row["row"], row["name"]) for row in report["accepted"]] == [(2, "陈晓明"), (3, "李静")]
    rejected = {row["row"]: row["code"] for row in report["rejected"]}
    assert rejected == {
        4: "invalid_id_number",
        5: "duplicate_in_file",
        6: "teacher_exists",
        7: "missing_fields",
        8: "invalid_mobile",
        9: "invalid_stage",
    }
    assert all(row["reason"] for row in report["rejected"])  # a Chinese reason for every rejection
    exists_row = next(row for row in report["rejected"] if row["row"] == 6)
    assert exists_row["ce_number"] == existing["ce_number"]
    assert sorted(doc["name"] for doc in in_school) == ["李静", "陈晓明"]
    by_name = {doc["name"]: doc for doc in in_school}
    assert by_name["李静"]["id_number"] == with_x and by_name["李静"]["mobile"] == "13900000002"
    assert (by_name["陈晓明"]["gender"], by_name["陈晓明"]["stage"]) == ("male", "primary")
    assert total == 3  # the two accepted rows and the existing teacher: nothing from rejected rows
    assert foreign.status_code == 403
    assert template.status_code == 200 and template.headers["content-type"] == XLSX
    header = next(load_workbook(io.BytesIO(template.content)).worksheets[0].iter_rows(values_only=True))
    assert header[:3] == ("姓名", "身份证号码", "手机号码")
    assert garbage.status_code == 422 and garbage.json()["code"] == "invalid_workbook"
