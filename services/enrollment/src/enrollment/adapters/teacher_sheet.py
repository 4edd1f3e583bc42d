"""Reading a teacher roster sheet (.xlsx, openpyxl) whose header row uses the platform's Chinese
column names (姓名, 身份证号码, 手机号码, ...). Only shape is handled here; the rules are the service's."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook, load_workbook

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


def read_teacher_rows(content: bytes) -> list[SheetRow]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise SheetError(f"not a readable .xlsx file: {exc}") from exc
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise SheetError("the sheet is empty")
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        label = _text(cell)
        for field, names in HEADERS.items():
            if label in names and field not in columns:
                columns[field] = index
    missing = [HEADERS[field][0] for field in REQUIRED if field not in columns]
    if missing:
        raise SheetError(f"missing required columns: {', '.join(missing)}")
    result: list[SheetRow] = []
    for number, cells in enumerate(rows, start=2):
        values = {field: _text(cells[index]) if index < len(cells) else None for field, index in columns.items()}
        if not any(values.values()):
            continue  # blank line
        gender, stage = values.get("gender"), values.get("stage")
        if gender:
            values["gender"] = GENDERS.get(gender, gender)
        if stage:
            values["stage"] = STAGES.get(stage, stage)
        result.append(SheetRow(number, values))
        if len(result) > MAX_ROWS:
            raise SheetError(f"at most {MAX_ROWS} rows per file")
    workbook.close()
    return result


def template_xlsx(rows: list[dict[str, Any]] | None = None) -> bytes:
    """An import template (and test fixture): the header row, then the given rows by field."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    fields = list(HEADERS)
    sheet.append([HEADERS[field][0] for field in fields])
    for row in rows or []:
        sheet.append([row.get(field) for field in fields])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
