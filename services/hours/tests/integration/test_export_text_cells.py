"""Issue 12 item 5: a teacher named like a formula comes back from the verification export as text."""

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
