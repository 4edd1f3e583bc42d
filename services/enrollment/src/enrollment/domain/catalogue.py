"""Catalogue rules (DOMAIN §2): course fields, money in fen, recommendations. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

PROGRAMMES = ("city", "district", "school", "special", "ability")
HOUR_TYPES = ("public", "professional", "elective")
COURSE_TYPES = ("remote", "face_to_face", "micro")
ABILITY_CATEGORIES = ("general_compulsory", "subject_compulsory", "school_research", "optional")

Doc = dict[str, Any]


class CourseRuleViolation(ValueError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def yuan_to_fen(amount: Decimal | int | float | str) -> int:
    """Yuan with at most 2 decimals -> integer fen; negative amounts are refused."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise CourseRuleViolation("invalid_amount", f"{amount!r} is not an amount.") from exc
    if not value.is_finite() or value < 0:
        raise CourseRuleViolation("invalid_amount", "Amounts must be zero or positive.")
    if value != value.quantize(Decimal("0.01")):
        raise CourseRuleViolation("invalid_amount", "Amounts have at most 2 decimals (fen).")
    return int((value * 100).to_integral_value(rounding=ROUND_HALF_UP))


def fen_to_yuan(fen: int | None) -> Decimal:
    return (Decimal(fen or 0) / 100).quantize(Decimal("0.01"))


def course_id(term: str, code: str) -> str:
    return f"{term}:{code}"


#: The most places a course can offer (the city has about a hundred thousand teachers); a capacity is
#: stored as a 64-bit counter, so an unbounded one would fail in the store rather than as bad input.
MAX_CAPACITY = 1_000_000


def validate_course(course: Mapping[str, Any]) -> None:
    """Field rules the schema cannot express."""
    if course["programme"] not in PROGRAMMES:
        raise CourseRuleViolation("invalid_programme", f"Unknown programme {course['programme']!r}.")
    if course["hours"] <= 0:
        raise CourseRuleViolation("invalid_hours", "A course grants a positive number of hours.")
    capacity = course.get("capacity")
    if capacity is not None and not 1 <= capacity <= MAX_CAPACITY:
        raise CourseRuleViolation("invalid_capacity", f"Capacity is 1 to {MAX_CAPACITY} places (null means unlimited).")
    if course["programme"] == "district" and not course.get("district"):
        raise CourseRuleViolation("district_required", "A district course names its district.")
    if course["programme"] == "school" and not course.get("school_id"):
        raise CourseRuleViolation("school_required", "A school-based course names its school.")
    if course["programme"] == "ability":
        if course.get("ability_category") not in ABILITY_CATEGORIES:
            raise CourseRuleViolation(
                "ability_category_required", f"An ability course has a category: {', '.join(ABILITY_CATEGORIES)}."
            )
    elif course.get("ability_category"):
        raise CourseRuleViolation("invalid_ability_category", "Only ability courses have an ability category.")


def hours_need_order(passed_hours: Mapping[str, float]) -> list[str]:
    """Hour types ordered by need: the type with the fewest passed hours first (the teacher's hours
    status as enrollment knows it)."""
    return sorted(HOUR_TYPES, key=lambda hour_type: (passed_hours.get(hour_type, 0.0), HOUR_TYPES.index(hour_type)))


def recommend(
    candidates: Iterable[Doc],
    *,
    subject: str | None,
    stage: str | None,
    passed_hours: Mapping[str, float],
    already: set[str],
    limit: int = 8,
    selectable: Callable[[Doc], bool] = lambda course: True,
) -> list[Doc]:
    """Recommendations (推荐课程): up to ``limit`` (8) courses — at least 5 when the catalogue has them —
    from the teacher's hours status, subject and stage. Excludes selected, full and ability courses
    (those are recommended by the ability project itself). Ranking: matches the subject (3) and stage
    (2), then the hour type the teacher needs most, then popularity. ``selectable``: only courses this
    teacher could select now (open, of their district...)."""
    need = hours_need_order(passed_hours)
    scored: list[tuple[tuple[int, int, int, str], Doc]] = []
    for course in candidates:
        if course["code"] in already or course.get("programme") in ("ability", "school", "special"):
            continue
        if course.get("status", "open") != "open" or not selectable(course):
            continue
        capacity = course.get("capacity")
        if capacity is not None and course.get("taken", 0) >= capacity:
            continue
        score = 0
        if subject and course.get("subject") == subject:
            score += 3
        elif course.get("subject") in (None, "", "通用", "全科"):
            score += 1
        if stage and course.get("stage") == stage:
            score += 2
        need_rank = need.index(course["hour_type"]) if course.get("hour_type") in need else len(need)
        scored.append(((-score, need_rank, -int(course.get("taken", 0)), course["code"]), course))
    scored.sort(key=lambda item: item[0])
    picked = [course for _, course in scored[:limit]]
    # Make sure the most needed hour type is represented when the catalogue has it.
    if picked and need and all(course.get("hour_type") != need[0] for course in picked):
        extra = next((course for _, course in scored[limit:] if course.get("hour_type") == need[0]), None)
        if extra is not None:
            picked[-1] = extra
    return picked
