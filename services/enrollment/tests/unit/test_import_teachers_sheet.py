"""Reading the teacher import sheet: Chinese headers (with the platform's aliases), blank lines, cells
typed as numbers, Chinese gender and stage labels, and files that cannot be imported at all."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from enrollment.adapters.teacher_sheet import SheetError, read_teacher_rows, template_xlsx
from jijiao_kit.xlsx import WorkbookRejected


def workbook(*rows: list[object]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def test_template_round_trip_maps_chinese_labels() -> None:
    content = template_xlsx(
        [
            {
                "name": "陈晓明",
                "id_number": "44010619850101001X",
                "mobile": "13900000001",
                "gender": "男",
                "stage": "初中",
            }
        ]
    )
    rows = await read_teacher_rows(content)
    assert len(rows) == 1
    assert rows[0].row == 2
    values = rows[0].values
    assert values["name"] == "陈晓明"
    assert (values["gender"], values["stage"]) == ("male", "junior")


async def test_aliases_numbers_and_blank_lines() -> None:
    content = workbook(
        ["证件号码", "姓名", "移动电话", "任教科目"],
        ["440106198501010011", "李静", 13900000002, "数学"],
        [None, None, None, None],
        ["440106198501010021", "王海", 13900000003.0, None],
    )
    rows = await read_teacher_rows(content)
    assert [row.row for row in rows] == [2, 4]
    assert rows[0].values["mobile"] == "13900000002"
    assert rows[1].values["mobile"] == "13900000003"
    assert rows[0].values["subject"] == "数学"


async def test_missing_required_column_is_a_file_error() -> None:
    with pytest.raises(SheetError, match="手机号码"):
        await read_teacher_rows(workbook(["姓名", "身份证号码"], ["李静", "440106198501010011"]))


async def test_not_an_xlsx_file() -> None:
    with pytest.raises(WorkbookRejected):
        await read_teacher_rows(b"name,id\n")


async def test_empty_sheet() -> None:
    with pytest.raises(SheetError):
        await read_teacher_rows(workbook())
