"""SMS length and segment count (GSM 03.38 rules as Chinese carriers bill them).

A Chinese SMS holds 70 characters; a longer one is sent as parts of 67 characters each (3 go to the
concatenation header). The signature (【签名】) is part of the text and counts."""

from __future__ import annotations

import math
from dataclasses import dataclass

SINGLE_LIMIT = 70
PART_LIMIT = 67


@dataclass(frozen=True)
class SmsSize:
    length: int
    segments: int


def signed(text: str, signature: str) -> str:
    return f"【{signature}】{text}" if signature else text


def size(text: str) -> SmsSize:
    length = len(text)
    if length <= SINGLE_LIMIT:
        return SmsSize(length, 1 if length else 0)
    return SmsSize(length, math.ceil(length / PART_LIMIT))
