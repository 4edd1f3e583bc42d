"""What free text may hold (pure): printable text only. A control character (``\x01``), a format
character (a bidi override, a zero-width joiner, a BOM), a line or paragraph separator, a private-use
or surrogate code point or a non-character (U+FFFE, U+FFFF) is refused: such text breaks the Excel
export and the printed book, or shows other than it reads. Text of several lines keeps tab, LF and CR."""

from __future__ import annotations

from jijiao_kit.names import refused_characters

LINE_BREAKS = frozenset("\t\n\r")


def _noncharacter(ch: str) -> bool:
    code = ord(ch)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def refused(text: str, *, lines: bool = False) -> list[str]:
    """The refused characters of ``text`` as code points such as ``U+202E`` (empty when acceptable)."""
    kept = "".join(ch for ch in text if ch not in LINE_BREAKS) if lines else text
    return refused_characters(kept) + [f"U+{ord(ch):04X}" for ch in kept if _noncharacter(ch)]


def _check(value: str, *, lines: bool) -> str:
    bad = refused(value, lines=lines)
    if bad:
        raise ValueError(f"text may not contain control, format or non-characters ({bad[0]})")
    return value


def check_line(value: str) -> str:
    """``value`` unchanged, or ValueError (pydantic makes it a 422)."""
    return _check(value, lines=False)


def check_paragraphs(value: str) -> str:
    """As ``check_line``, but tab, LF and CR are allowed."""
    return _check(value, lines=True)
