"""Excel import of bases and zones with a per-row report (item 1)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook

XLSX = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def workbook(header: list[str], rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def test_bases_are_imported_with_a_report_per_row(centre: Any) -> None:
    data = workbook(
        ["名称", "学段", "地区", "联系人", "联系电话", "邮箱"],
        [
            ["北京一零一中学", "高中", "北京", "王老师", 13800000001, "w@example.com"],
            ["清华附小", "小学", "北京", "李老师", "13800000002", None],
            ["无学段学校", "大学", "北京", "赵老师", "13800000003", None],
            ["清华附小", "小学", "北京", "李老师", "13800000002", None],
            ["坏号码学校", "初中", "上海", "钱老师", "12345", None],
        ],
    )
    headers = {**centre.headers, **XLSX}
    report = await centre.ok("POST", "/v1/bases/import", content=data, headers=headers)
    assert (report["accepted"], report["refused"]) == (2, 3)
    by_row = {r["row"]: r for r in report["rows"]}
    assert by_row[2]["accepted"] and by_row[3]["accepted"]
    assert by_row[4]["code"] == "import_row_invalid" and by_row[6]["code"] == "import_row_invalid"
    assert by_row[5]["code"] == "base_exists" and by_row[5]["title"] == "研修基地已存在"
    bases = {b["name"]: b for b in await centre.ok("GET", "/v1/bases")}
    assert set(bases) == {"北京一零一中学", "清华附小"} and bases["北京一零一中学"]["stage"] == "senior"
    assert bases["北京一零一中学"]["contact"]["mobile"] == "13800000001"


async def test_zones_import_and_bad_workbooks(centre: Any) -> None:
    headers = {**centre.headers, **XLSX}
    data = workbook(
        ["名称", "地区", "联系人", "联系电话", "邮箱"], [["南沙实验区", "广东", "刘老师", "13700000001", None]]
    )
    report = await centre.ok("POST", "/v1/zones/import", content=data, headers=headers)
    assert report["accepted"] == 1 and [z["name"] for z in await centre.ok("GET", "/v1/zones")] == ["南沙实验区"]
    garbage = await centre.client.post("/v1/zones/import", content=b"not a workbook", headers=headers)
    assert garbage.status_code == 422 and garbage.json()["code"] == "import_unreadable"
    wrong_header = workbook(["name"], [["x"]])
    wrong = await centre.client.post("/v1/zones/import", content=wrong_header, headers=headers)
    assert wrong.status_code == 422 and wrong.json()["code"] == "import_unreadable"
    big = workbook(
        ["名称", "地区", "联系人", "联系电话", "邮箱"], [[f"区{i}", "", "刘", "13700000001", None] for i in range(5001)]
    )
    too_many = await centre.client.post("/v1/zones/import", content=big, headers=headers)
    assert too_many.status_code == 413 and too_many.json()["code"] == "import_too_many_rows"
    assert len(await centre.ok("GET", "/v1/zones")) == 1
    by_contact = await centre.client.post(
        "/v1/zones/import", content=data, headers={**centre.contact("abc123"), **XLSX}
    )
    assert by_contact.status_code == 403


async def test_rows_with_format_or_control_characters_are_refused(centre: Any) -> None:
    """An .xlsx cannot hold C0 controls, but bidi overrides, zero-width and separator characters pass
    through XML: a row with one is refused like a malformed row, whichever column holds it."""
    data = workbook(
        ["名称", "地区", "联系人", "联系电话", "邮箱"],
        [
            ["南沙实验区", "广\u202e东", "刘老师", "13700000001", None],
            ["天河实验区", "广东", "陈\u200b老师", "13700000002", None],
            ["番禺实验区", "广东", "黄老师", "13700000003", None],
        ],
    )
    report = await centre.ok("POST", "/v1/zones/import", content=data, headers={**centre.headers, **XLSX})
    assert [(r["row"], r["accepted"], r["code"]) for r in report["rows"]] == [
        (2, False, "import_row_invalid"),
        (3, False, "import_row_invalid"),
        (4, True, None),
    ]
    assert [z["name"] for z in await centre.ok("GET", "/v1/zones")] == ["番禺实验区"]
