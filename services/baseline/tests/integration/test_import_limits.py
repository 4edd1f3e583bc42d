"""Crafted workbooks cannot hold the import (bases and zones) for minutes nor eat its memory: the
kit's guarded reader refuses them with a 413 before or while parsing, and nothing is written."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from openpyxl import Workbook

from jijiao_kit.xlsx import MAX_UNPACKED_BYTES

XLSX = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
HEADER = ["名称", "地区", "联系人", "联系电话", "邮箱"]
NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def with_sheet_xml(rows: bytes) -> bytes:
    """A valid zones workbook whose sheet carries ``rows`` after the header row."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    buffer = io.BytesIO()
    book.save(buffer)
    cells = b"".join(
        b'<c r="%s1" t="inlineStr"><is><t>%s</t></is></c>' % (col.encode(), label.encode())
        for col, label in zip("ABCDE", HEADER, strict=True)
    )
    xml = (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet ' + NS + b'><dimension ref="A1:XFD1048576"/>'
        b'<sheetData><row r="1">' + cells + b"</row>" + rows + b"</sheetData></worksheet>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, xml if info.filename == "xl/worksheets/sheet1.xml" else src.read(info))
    return out.getvalue()


async def test_a_zip_bomb_is_refused_with_413(centre: Any) -> None:
    bomb = with_sheet_xml(b" " * (MAX_UNPACKED_BYTES + 1024))  # ~70 KB sent, 64 MB unpacked
    assert len(bomb) < 200_000
    refused = await centre.client.post("/v1/zones/import", content=bomb, headers={**centre.headers, **XLSX})
    assert refused.status_code == 413, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "workbook_too_large"
    assert refused.json()["title"] == "Excel 文件内容过大，请精简后重新上传"
    assert await centre.ok("GET", "/v1/zones") == []


async def test_millions_of_blank_rows_and_a_huge_dimension_are_refused(centre: Any) -> None:
    # 400,000 blank formatted rows under a dimension of the whole grid: openpyxl would walk them all.
    blank = b"".join(b'<row r="%d" s="1" customFormat="1"/>' % n for n in range(2, 400_002))
    data = with_sheet_xml(blank)
    refused = await centre.client.post("/v1/bases/import", content=data, headers={**centre.headers, **XLSX})
    assert refused.status_code == 413 and refused.json()["code"] == "import_too_many_rows"
    assert await centre.ok("GET", "/v1/bases") == []
