"""Excel (.xlsx) exports with the seeds' Chinese column headers (written by ``jijiao_kit.xlsx``, which
stores user text as text, never as a formula)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from jijiao_kit.xlsx import SheetSpec, rows_xlsx, workbook_bytes


def rows_to_xlsx(sheet_title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    return rows_xlsx(sheet_title, headers, ([_cell(value) for value in row] for row in rows), widths=True)


def _cell(value: Any) -> Any:
    return "" if value is None else value


def sheets_to_xlsx(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """Several sheets (title, headers, rows) in one workbook."""
    return workbook_bytes(
        [
            SheetSpec(title, headers, ([_cell(value) for value in row] for row in rows))
            for title, headers, rows in sheets
        ]
    )
