"""Reading a teacher roster sheet (.xlsx, openpyxl) whose header row uses the platform's Chinese
column names (姓名, 身份证号码, 手机号码, ...). Only shape is handled here; the rules are the service's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jijiao_kit.xlsx import read_upload, rows_xlsx

#: Column header → field. The first name of each field is the one templates are written with.
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名",),
    "id_number": ("身份证号码", "证件号码", "身份证号"),
    "mobile": ("手机号码", "移动电话", "手机"),
    "gender": ("性别",),
    "email": ("电子邮箱", "邮箱"),
    "subject": ("任教学科", "任教科目"),
    "stage": ("任教学段", "学段"),
    "title": ("职称",),
}
REQUIRED = ("name", "id_number", "mobile")
GENDERS = {"男": "male", "女": "female", "male": "male", "female": "female"}
STAGES = {
    "幼儿园": "kindergarten",
    "小学": "primary",
    "初中": "junior",
    "高中": "senior",
    "中职": "vocational",
    "职校": "vocational",
}
MAX_ROWS = 5000


class SheetError(ValueError):
    """The file is not a readable .xlsx or lacks required columns."""


@dataclass(frozen=True)
class SheetRow:
    row: int  # the 1-based row number an admin sees in Excel
    values: dict[str, Any]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # numbers typed into a cell: 13900000001.0 → "13900000001"
    text = str(value).strip()
    return text or None


async def read_teacher_rows(content: bytes) -> list[SheetRow]:
    """The sheet's rows by field (parsed off the event loop; a workbook that cannot be read safely, or
    has more than ``MAX_ROWS`` rows, blank ones included, is a 422 from ``jijiao_kit.xlsx``)."""
    sheet = await read_upload(content, max_rows=MAX_ROWS)
    if not sheet.header:
        raise SheetError("the sheet is empty")
    columns: dict[str, int] = {}
    for index, cell in enumerate(sheet.header):
        label = _text(cell)
        for field, names in HEADERS.items():
            if label in names and field not in columns:
                columns[field] = index
    missing = [HEADERS[field][0] for field in REQUIRED if field not in columns]
    if missing:
        raise SheetError(f"missing required columns: {', '.join(missing)}")
    result: list[SheetRow] = []
    for number, cells in sheet.rows:
        values = {field: _text(cells[index]) if index < len(cells) else None for field, index in columns.items()}
        if not any(values.values()):
            continue  # blank line
        gender, stage = values.get("gender"), values.get("stage")
        if gender:
            values["gender"] = GENDERS.get(gender, gender)
        if stage:
            values["stage"] = STAGES.get(stage, stage)
        result.append(SheetRow(number, values))
    return result


def template_xlsx(rows: list[dict[str, Any]] | None = None) -> bytes:
    """An import template (and test fixture): the header row, then the given rows by field."""
    fields = list(HEADERS)
    return rows_xlsx(
        "Sheet", [HEADERS[field][0] for field in fields], ([row.get(field) for field in fields] for row in rows or [])
    )
