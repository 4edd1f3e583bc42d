"""The cycle-excellent certificate (工作室优秀成员证书): a Chinese PDF, reportlab with its built-in CID
font STSong-Light (no font file needed)."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

FONT = "STSong-Light"
_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def certificate_pdf(*, name: str, ce_number: str, studio_name: str, cycle: str, issued: str) -> bytes:
    font = _font()
    title = ParagraphStyle("title", fontName=font, fontSize=32, leading=44, alignment=1)
    body = ParagraphStyle("body", fontName=font, fontSize=18, leading=32, firstLineIndent=36)
    right = ParagraphStyle("right", fontName=font, fontSize=14, leading=24, alignment=2)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=30 * mm, rightMargin=30 * mm, topMargin=25 * mm)
    doc.build(
        [
            Paragraph("荣 誉 证 书", title),
            Spacer(1, 16 * mm),
            Paragraph(
                f"{_escape(name)}老师（继续教育学号{_escape(ce_number)}）在{_escape(studio_name)}"
                f"{_escape(cycle)}周期研修中表现突出，考核为优秀，特发此证。",
                body,
            ),
            Spacer(1, 24 * mm),
            Paragraph("广州市中小学教师继续教育", right),
            Paragraph(_escape(issued), right),
        ]
    )
    return out.getvalue()
