"""Names people and places are known by (teachers, admins, schools, courses): printable text only.

A name with NUL, a bidi override (U+202E), a BOM (U+FEFF), a zero-width joiner, a line or paragraph
separator, a private-use or a lone surrogate code point is refused: such characters hide or reorder
what a reader sees (a name that displays as another), break exports and logs, and never belong in a
name. Ordinary spaces and every letter, mark, digit and punctuation of any script stay allowed."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

#: Unicode categories refused in names: controls, format characters (bidi, BOM, zero-width), line
#: and paragraph separators, private use, surrogates.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs"})


def refused_characters(text: str) -> list[str]:
    """The refused characters of ``text`` as ``U+XXXX`` (empty when the text is acceptable)."""
    return [f"U+{ord(ch):04X}" for ch in text if unicodedata.category(ch) in REFUSED_CATEGORIES]


def check_name_characters(value: str) -> str:
    """``value`` unchanged, or ValueError naming the first refused character (pydantic makes it a 422)."""
    bad = refused_characters(value)
    if bad:
        raise ValueError(f"names may not contain control or format characters ({bad[0]})")
    return value


#: A name field: ``name: Name = Field(min_length=1, max_length=50)``.
Name = Annotated[str, AfterValidator(check_name_characters)]
