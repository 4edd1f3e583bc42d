"""Collective-selection workbooks (.xlsx) as school admins keep them: a Chinese header row
(学号, 姓名, 课程编号) and one teacher x course per row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jijiao_kit.xlsx import read_upload, rows_xlsx

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


async def read_selection_rows(data: bytes) -> list[SheetRow]:
    """The import's rows (parsed off the event loop; a workbook that cannot be read safely, or has more
    than ``MAX_ROWS`` rows, blank ones included, is a 422 from ``jijiao_kit.xlsx``)."""
    sheet = await read_upload(data, max_rows=MAX_ROWS)
    header = [_text(cell) for cell in sheet.header]

    def column(names: tuple[str, ...]) -> int | None:
        return next((index for index, title in enumerate(header) if title in names), None)

    ce_col, name_col, course_col = column(CE_HEADERS), column(NAME_HEADERS), column(COURSE_HEADERS)
    if ce_col is None or course_col is None:
        raise WorkbookInvalid(
            "invalid_header", "The first row must name the columns 学号 and 课程编号 (姓名 recommended)."
        )
    result: list[SheetRow] = []
    for number, cells in sheet.rows:
        values = [_text(cell) for cell in cells]
        if not any(values):
            continue

        def cell(index: int | None, values: list[str] = values) -> str:
            return values[index] if index is not None and index < len(values) else ""

        ce_number, course_code = cell(ce_col), cell(course_col)
        name = cell(name_col) if name_col is not None else None
        problem = None if ce_number and course_code else "missing_cells"
        result.append(SheetRow(number, ce_number, name or None, course_code, problem))
    return result


def selection_workbook(rows: list[tuple[str, str, str]]) -> bytes:
    """A workbook in the import format (used by tests and as a downloadable template)."""
    return rows_xlsx("Sheet", ["学号", "姓名", "课程编号"], rows)
