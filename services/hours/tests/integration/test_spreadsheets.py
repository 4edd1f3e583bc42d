"""Issue 12 items 5 and 6: user text comes back from exports as text, and bulk workbooks are read safely."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import httpx
from openpyxl import load_workbook

from hours.bootstrap import Container
from jijiao_stack.pytest_plugin import bearer


async def test_verification_export_stores_formula_like_names_as_text(
    container: Container, client: httpx.AsyncClient, make_token: Any
) -> None:
    await container.teachers.upsert(
        "2026000009",
        {"name": "=1+2", "school_id": "s1", "school_name": "-一小", "district": "天河区"},
        datetime(2026, 1, 2, tzinfo=UTC),
    )
    city = make_token("city_admin", subject="city")
    assert (await client.post("/v1/verifications/2026/run", headers=bearer(city))).status_code == 200
    export = await client.get("/v1/schools/s1/verifications/2026.xlsx", headers=bearer(city))
    assert export.status_code == 200, export.text
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None
    (row,) = [row for row in sheet.iter_rows(min_row=2) if row[0].value == "2026000009"]
    assert (row[1].value, row[1].data_type, row[1].quotePrefix) == ("=1+2", "s", True)
    assert (row[2].value, row[2].data_type) == ("-一小", "s")


async def test_bulk_registration_counts_blank_rows_toward_the_limit(client: httpx.AsyncClient, make_token: Any) -> None:
    """Issue 12 item 6: 400,000 blank rows are a 422 at the 5,000-row limit, not a frozen API."""
    import zipfile

    from jijiao_kit.xlsx import XLSX_MEDIA_TYPE, rows_xlsx

    ns = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    blank = b"".join(b'<row r="%d" s="0" customFormat="1"/>' % n for n in range(2, 400_002))
    sheet_xml = b"<worksheet " + ns + b'><sheetData><row r="1"><c r="A1"><v>1</v></c></row>' + blank
    sheet_xml += b"</sheetData></worksheet>"
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(rows_xlsx("学时登记", ["h"], []))) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            name = info.filename
            dst.writestr(name, sheet_xml if name == "xl/worksheets/sheet1.xml" else src.read(name))
    school = bearer(make_token("school_admin", school_id="s1", subject="school:s1"))
    response = await client.post(
        "/v1/hour-registrations/bulk", files={"file": ("登记.xlsx", out.getvalue(), XLSX_MEDIA_TYPE)}, headers=school
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "too_many_rows"
