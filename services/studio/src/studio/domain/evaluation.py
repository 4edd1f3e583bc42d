"""Member evaluation (成员考核, DOMAIN §8): grades and their rules. Pure.

Excellent is at most 30 % of the studio's members (rounded down), never for a member with less than
two years in the studio; missing 1/7 or more of the required offline activities means unqualified,
computed from check-ins. Editable until the cycle ends."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

YEAR_MS = 365 * 24 * 3600 * 1000
MIN_YEARS_FOR_EXCELLENT = 2


class Grade(StrEnum):
    EXCELLENT = "excellent"  # 优秀
    GOOD = "good"  # 良好
    QUALIFIED = "qualified"  # 合格
    UNQUALIFIED = "unqualified"  # 不合格


def excellent_cap(members: int) -> int:
    """30 % of the members, rounded down."""
    return members * 3 // 10


def period_end_ms(period: str, cycle_end_year: int) -> int:
    """The end of a year (``"2026"``) or of the cycle (``"cycle"``)."""
    year = cycle_end_year if period == "cycle" else int(period)
    return int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp() * 1000)


def period_problem(period: str, cycle: tuple[int, int]) -> str | None:
    if period == "cycle":
        return None
    if not period.isdigit() or not cycle[0] <= int(period) <= cycle[1]:
        return f"period is 'cycle' or a year of the cycle {cycle[0]}–{cycle[1]}"
    return None


def long_enough(joined_ms: int, end_ms: int) -> bool:
    return end_ms - joined_ms >= MIN_YEARS_FOR_EXCELLENT * YEAR_MS


def too_absent(required: int, attended: int) -> bool:
    """Absence of 1/7 or more of the required offline activities."""
    absent = max(required - attended, 0)
    return required > 0 and absent * 7 >= required


def grade_problem(grade: Grade, *, joined_ms: int, end_ms: int, required: int, attended: int) -> str | None:
    """Why ``grade`` cannot be given (a problem code), or None."""
    if too_absent(required, attended) and grade is not Grade.UNQUALIFIED:
        return "absent_unqualified"
    if grade is Grade.EXCELLENT and not long_enough(joined_ms, end_ms):
        return "too_new_for_excellent"
    return None


def editable(now_ms: int, cycle_end_year: int) -> bool:
    return now_ms < period_end_ms("cycle", cycle_end_year)
