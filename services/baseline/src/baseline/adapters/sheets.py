"""Excel workbooks in and out, both through the kit (``jijiao_kit.xlsx``): reading in its guarded reader (a
worker process), writing with its writer (user text always text, never a formula; characters an .xlsx
cannot hold dropped, so a control character in a name never makes an export Excel cannot open)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from jijiao_kit.xlsx import TooManyRows, WorkbookRejected, WorkbookTooLarge, read_upload, rows_xlsx

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


async def read_rows(data: bytes, columns: dict[str, str]) -> list[tuple[int, dict[str, str]]]:
    """The data rows of the first sheet as (row number, {field: text}); ``columns`` maps header
    labels (Chinese) to fields. At most ``MAX_ROWS`` rows, blank ones included. Parsed by the kit's
    guarded reader in a worker process (``jijiao_kit.xlsx.read_upload``: unpacked size, shared
    strings, rows and columns bounded before and while parsing); its 413 ``workbook_too_large``
    passes through as is."""
    try:
        sheet = await read_upload(data, max_rows=MAX_ROWS)
    except WorkbookTooLarge:
        raise
    except TooManyRows as exc:
        raise SheetError("import_too_many_rows") from exc
    except WorkbookRejected as exc:
        raise SheetError("import_unreadable") from exc
    header = sheet.header
    index = {columns[_text(label)]: i for i, label in enumerate(header) if _text(label) in columns}
    if set(index) != set(columns.values()):
        raise SheetError("import_unreadable")
    return [
        (number, {field: _text(row[i]) if i < len(row) else "" for field, i in index.items()})
        for number, row in sheet.rows
    ]


def write_sheet(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """One sheet: a header row, then the rows. Strings are text cells (a leading ``=`` stays text, with
    Excel's quote prefix); characters XML cannot hold (``\\x01``, U+FFFF, ...) are dropped."""
    return rows_xlsx(title, header, rows)
