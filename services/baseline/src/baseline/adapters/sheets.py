"""Excel workbooks in and out (openpyxl). Reading is CPU work: callers run it off the event loop.
Cells written from user text are always text (never a formula)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import TYPE_STRING

MAX_ROWS = 5_000
MAX_BYTES = 5 * 1024 * 1024


class SheetError(ValueError):
    """``code``: ``import_unreadable`` or ``import_too_many_rows``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a mobile typed as a number
    return str(value).strip()


def read_rows(data: bytes, columns: dict[str, str]) -> list[tuple[int, dict[str, str]]]:
    """The data rows of the first sheet as (row number, {field: text}); ``columns`` maps header
    labels (Chinese) to fields. At most ``MAX_ROWS`` data rows."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise SheetError("import_unreadable") from exc
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise SheetError("import_unreadable")
        index = {columns[_text(label)]: i for i, label in enumerate(header) if _text(label) in columns}
        if set(index) != set(columns.values()):
            raise SheetError("import_unreadable")
        out: list[tuple[int, dict[str, str]]] = []
        for number, row in enumerate(rows, start=2):
            if row is None or all(cell is None or _text(cell) == "" for cell in row):
                continue
            if len(out) >= MAX_ROWS:
                raise SheetError("import_too_many_rows")
            out.append((number, {field: _text(row[i]) if i < len(row) else "" for field, i in index.items()}))
        return out
    finally:
        workbook.close()


def write_sheet(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """One sheet; every string cell is stored as text (a leading ``=`` stays text, never a formula)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    sheet.append(list(header))
    for values in rows:
        sheet.append([None] * len(values))
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=sheet.max_row, column=column)
            if isinstance(value, str):
                # Assigning ``cell.value`` would turn "=..." into a formula: set the text type explicitly.
                cell._value = value
                cell.data_type = TYPE_STRING
            else:
                cell.value = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
