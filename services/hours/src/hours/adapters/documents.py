"""Printable and exportable documents: the per-teacher verification report (PDF, Chinese, CJK font)
and .xlsx exports with Chinese headers; reading bulk registration workbooks."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from jijiao_kit.xlsx import read_upload, rows_xlsx

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

CATEGORY_LABELS = {"public": "公需科目", "professional": "专业科目", "elective": "个人选修科目"}


def _h(value: Any) -> str:
    return f"{float(value):g}"


def verification_pdf(
    teacher: dict[str, Any],
    verification: dict[str, Any],
    entries: Sequence[dict[str, Any]],
    source_labels: dict[str, str],
) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title="继续教育年度学时验证报告",
    )
    title = ParagraphStyle("title", fontName=FONT, fontSize=18, leading=24, alignment=1)
    body = ParagraphStyle("body", fontName=FONT, fontSize=11, leading=16)
    year = verification["year"]
    story: list[Any] = [
        Paragraph(f"广州市中小学教师继续教育 {year} 年度学时验证报告", title),
        Spacer(1, 6 * mm),
        Paragraph(
            f"姓名：{teacher.get('name') or ''}　继续教育学号：{teacher['_id']}　"
            f"学校：{teacher.get('school_name') or teacher.get('school_id') or ''}　区：{teacher.get('district') or ''}",
            body,
        ),
        Spacer(1, 4 * mm),
    ]
    req = verification["requirement"]
    rows = [
        ["项目", "已获学时", "年度要求"],
        ["总学时", _h(verification["total"]), _h(req["total"])],
        ["公需科目", _h(verification["public"]), _h(req["public"])],
        ["专业科目(含上年结转)", _h(verification["professional"]), _h(req["professional"])],
        ["个人选修科目", _h(verification["elective"]), _h(req["elective"])],
        ["上年结转学时", _h(verification["carried_in"]), ""],
        ["结转下年学时", _h(verification["carried_out"]), ""],
        ["验证结果", "通过" if verification["passed"] else "未通过", ""],
    ]
    table = Table(rows, colWidths=[70 * mm, 50 * mm, 50 * mm])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 11),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
            ]
        )
    )
    story += [table, Spacer(1, 6 * mm), Paragraph("学时明细", body), Spacer(1, 2 * mm)]
    detail = [["来源", "类别", "申报/登记学时", "计入学时", "未计入原因"]]
    for entry in entries:
        detail.append(
            [
                source_labels.get(entry["source"], entry["source"]),
                CATEGORY_LABELS.get(entry["category"], entry["category"]),
                _h(entry["requested"]),
                _h(entry["credited"]),
                Paragraph(
                    entry.get("reason_text") or "", ParagraphStyle("cell", fontName=FONT, fontSize=9, leading=11)
                ),
            ]
        )
    detail_table = Table(detail, colWidths=[45 * mm, 28 * mm, 28 * mm, 22 * mm, 57 * mm], repeatRows=1)
    detail_table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 9),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
            ]
        )
    )
    story.append(detail_table)
    doc.build(story)
    return buffer.getvalue()


def xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str = "Sheet1") -> bytes:
    return rows_xlsx(sheet, headers, rows)


async def read_rows(data: bytes, max_rows: int) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """Header row and data rows (with their 1-based row numbers) of the first sheet, parsed off the
    event loop; an unreadable or unsafe workbook, or one of more than ``max_rows`` rows (blank ones
    included), is a 422 from ``jijiao_kit.xlsx``."""
    sheet = await read_upload(data, max_rows=max_rows)
    header = [str(cell).strip() if cell is not None else "" for cell in sheet.header]
    return header, sheet.rows
