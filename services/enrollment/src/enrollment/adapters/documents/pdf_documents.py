"""Chinese PDFs people print: the payment notice (缴款通知书) and the result certificate (成绩打印).

reportlab with its built-in CID font STSong-Light, so no font file is needed anywhere."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"
_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def _styles() -> tuple[ParagraphStyle, ParagraphStyle, ParagraphStyle]:
    font = _font()
    title = ParagraphStyle("title", fontName=font, fontSize=20, leading=28, alignment=1, spaceAfter=6 * mm)
    body = ParagraphStyle("body", fontName=font, fontSize=11, leading=17)
    small = ParagraphStyle("small", fontName=font, fontSize=9, leading=13, textColor=colors.grey)
    return title, body, small


def _table(rows: Sequence[Sequence[str]], widths: Sequence[float], header: bool = False) -> Table:
    table = Table([list(row) for row in rows], colWidths=list(widths))
    style = [
        ("FONTNAME", (0, 0), (-1, -1), _font()),
        ("FONTSIZE", (0, 0), (-1, -1), 10.5),
        ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")))
    table.setStyle(TableStyle(style))
    return table


def _build(story: list[object], title: str) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=20 * mm,
        bottomMargin=18 * mm,
        title=title,
    )
    doc.build(story)
    return buffer.getvalue()


@dataclass(frozen=True)
class PaymentNotice:
    bill_number: str
    term: str
    payer: str  # the school's seal name (学校公章名)
    school_name: str
    payee: str
    amount_yuan: str
    amount_words: str
    teacher_count: int
    selection_count: int
    issued_on: str
    due_on: str | None
    lines: Sequence[tuple[str, str, int, str]]  # course code, course name, persons, amount (yuan)


def payment_notice_pdf(notice: PaymentNotice) -> bytes:
    title, body, small = _styles()
    width = A4[0] - 36 * mm
    story: list[object] = [
        Paragraph("缴款通知书", title),
        Paragraph(f"账单号：{notice.bill_number}　　期数：{notice.term}期　　开具日期：{notice.issued_on}", body),
        Spacer(1, 4 * mm),
        _table(
            [
                ["缴款单位", notice.payer],
                ["学校名称", notice.school_name],
                ["收款单位", notice.payee],
                ["缴款项目", f"{notice.term}期中小学教师继续教育培训费"],
                ["缴款人数", f"{notice.teacher_count} 人（{notice.selection_count} 人次）"],
                ["应缴金额（小写）", f"￥{notice.amount_yuan}"],
                ["应缴金额（大写）", f"人民币{notice.amount_words}"],
                ["缴费截止时间", notice.due_on or "—"],
            ],
            [40 * mm, width - 40 * mm],
        ),
        Spacer(1, 6 * mm),
        Paragraph("缴费明细", body),
        Spacer(1, 2 * mm),
        _table(
            [["课程编号", "课程名称", "人数", "金额（元）"]]
            + [[code, name, str(count), amount] for code, name, count, amount in notice.lines],
            [38 * mm, width - 38 * mm - 20 * mm - 28 * mm, 20 * mm, 28 * mm],
            header=True,
        ),
        Spacer(1, 6 * mm),
        Paragraph(
            "说明：缴款单位名称为学校公章名称，须与报销发票上的单位名称一致。请在缴费截止时间前缴费；"
            "选课后既未删除选课记录又未缴费的教师，将被设为特殊用户。",
            small,
        ),
    ]
    return _build(story, f"缴款通知书 {notice.bill_number}")


@dataclass(frozen=True)
class ResultCertificate:
    certificate_number: str
    name: str
    ce_number: str
    school_name: str
    term: str
    year: int
    course_code: str
    course_name: str
    hour_type_label: str
    hours: str
    registered_on: str


def result_certificate_pdf(cert: ResultCertificate) -> bytes:
    title, body, small = _styles()
    width = A4[0] - 36 * mm
    story: list[object] = [
        Paragraph("继续教育学习证明", title),
        Paragraph(f"证明编号：{cert.certificate_number}", small),
        Spacer(1, 4 * mm),
        Paragraph(
            f"{cert.name}（继续教育学号：{cert.ce_number}）于 {cert.year} 年第 {cert.term} 期参加了以下课程的学习，"
            "成绩合格，特此证明。",
            body,
        ),
        Spacer(1, 4 * mm),
        _table(
            [
                ["姓名", cert.name],
                ["学号", cert.ce_number],
                ["单位", cert.school_name],
                ["期数", f"{cert.term}期"],
                ["课程编号", cert.course_code],
                ["课程名称", cert.course_name],
                ["学时类型", cert.hour_type_label],
                ["学时", cert.hours],
                ["成绩", "合格"],
                ["登记日期", cert.registered_on],
            ],
            [40 * mm, width - 40 * mm],
        ),
        Spacer(1, 10 * mm),
        Paragraph("广州市中小学教师继续教育网", body),
    ]
    return _build(story, f"学习证明 {cert.certificate_number}")
