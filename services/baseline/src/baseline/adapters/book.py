"""The yearly book of excellent reflections and outcomes (优秀心得与学习成果汇编) as a Chinese PDF.

reportlab with its built-in CID font STSong-Light (as enrollment's documents), so no font file is
needed. User text goes into paragraphs escaped, never as markup."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

FONT = "STSong-Light"
_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


@dataclass(frozen=True)
class Piece:
    title: str
    author: str  # trainee name, zone, base
    paragraphs: Sequence[str]


@dataclass(frozen=True)
class Chapter:
    title: str  # the category, e.g. 心得体会 · 小学
    pieces: Sequence[Piece]


def render_book(year: str, chapters: Sequence[Chapter]) -> bytes:
    font = _font()
    cover = ParagraphStyle("cover", fontName=font, fontSize=24, leading=34, alignment=1, spaceBefore=60 * mm)
    subtitle = ParagraphStyle("subtitle", fontName=font, fontSize=13, leading=20, alignment=1, spaceBefore=8 * mm)
    heading = ParagraphStyle("heading", fontName=font, fontSize=17, leading=24, spaceAfter=5 * mm)
    piece_title = ParagraphStyle("piece", fontName=font, fontSize=13, leading=19, spaceBefore=4 * mm)
    byline = ParagraphStyle("byline", fontName=font, fontSize=9.5, leading=14, textColor=colors.grey)
    body = ParagraphStyle("body", fontName=font, fontSize=11, leading=18, firstLineIndent=22, spaceBefore=2 * mm)
    story: list[object] = [
        Paragraph(escape(f"全国课程改革骨干教师研修基地学习培训项目 {year}学年"), cover),
        Paragraph("优秀心得体会与学习成果汇编", subtitle),
        Paragraph("课程教材中心实验区管理办公室", subtitle),
        PageBreak(),
    ]
    if not chapters:
        story.append(Paragraph("本学年暂无入选作品。", body))
    for chapter in chapters:
        story.append(Paragraph(escape(chapter.title), heading))
        for piece in chapter.pieces:
            story.append(Paragraph(escape(piece.title), piece_title))
            story.append(Paragraph(escape(piece.author), byline))
            story.extend(Paragraph(escape(text), body) for text in piece.paragraphs if text.strip())
            story.append(Spacer(1, 4 * mm))
        story.append(PageBreak())
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=18 * mm,
        title=f"{year} 研修基地优秀成果汇编",
    )
    document.build(story)
    return buffer.getvalue()
