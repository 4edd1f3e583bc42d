"""Collective-selection workbooks (.xlsx) as school admins keep them: a Chinese header row
(学号, 姓名, 课程编号) and one teacher x course per row."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook, load_workbook

CE_HEADERS = ("学号", "继续教育学号", "继教号")
NAME_HEADERS = ("姓名",)
COURSE_HEADERS = ("课程编号", "课程代码")
MAX_ROWS = 5000


class WorkbookInvalid(ValueError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class SheetRow:
    row: int  # spreadsheet row number (the header is row 1)
    ce_number: str
    name: str | None
    course_code: str
    problem: str | None = None  # a row the sheet itself makes unusable ("missing_cells")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_selection_rows(data: bytes) -> list[SheetRow]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for non-xlsx input
        raise WorkbookInvalid("invalid_workbook", "The file is not a readable .xlsx workbook.") from exc
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [_text(cell) for cell in next(rows, ())]

    def column(names: tuple[str, ...]) -> int | None:
        return next((index for index, title in enumerate(header) if title in names), None)

    ce_col, name_col, course_col = column(CE_HEADERS), column(NAME_HEADERS), column(COURSE_HEADERS)
    if ce_col is None or course_col is None:
        raise WorkbookInvalid(
            "invalid_header", "The first row must name the columns 学号 and 课程编号 (姓名 recommended)."
        )
    result: list[SheetRow] = []
    for number, cells in enumerate(rows, start=2):
        values = [_text(cell) for cell in cells]
        if not any(values):
            continue
        if len(result) >= MAX_ROWS:
            raise WorkbookInvalid("too_many_rows", f"At most {MAX_ROWS} rows per import.")

        def cell(index: int | None, values: list[str] = values) -> str:
            return values[index] if index is not None and index < len(values) else ""

        ce_number, course_code = cell(ce_col), cell(course_col)
        name = cell(name_col) if name_col is not None else None
        problem = None if ce_number and course_code else "missing_cells"
        result.append(SheetRow(number, ce_number, name or None, course_code, problem))
    workbook.close()
    return result


def selection_workbook(rows: list[tuple[str, str, str]]) -> bytes:
    """A workbook in the import format (used by tests and as a downloadable template)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["学号", "姓名", "课程编号"])
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
