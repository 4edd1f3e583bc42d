"""Term statistics (DOMAIN §11, seed term-1602-training-summary). Pure, no I/O.

Definitions (the seed's 备注 under 表1): 选修人数 = persons who selected and paid; 学习人数 = persons who
actually studied; 学习率 = 学习人数 / 选修人数; 通过率 = 通过人数 / 学习人数. Persons are distinct CE numbers.
Choices where the seed is silent:
- a selection is "paid" when it is marked paid or has nothing to pay (free school-based courses);
- a person studied when the learning platform reported LearningStarted for a paid selection, or a paid
  selection passed (passing implies studying);
- a person passed when at least one of their paid selections in the group passed (they obtained hours);
  in the ability-improvement project the seed defines it: 通过人数（50学时以上且必修通过）, i.e. the
  programme passed (``domain.ability.programme_status`` over the person's selections of the project);
- 人次 (places) = active selections, 人数 (persons) = distinct teachers among them.
Course pass rate = passed / active selections of the course (学员通过率 of 课程通过率统计); the bands are
≥90 %, 80–90 %, 70–80 %, 60–70 %, <60 %, and courses nobody selected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from enrollment.domain.ability import programme_status
from enrollment.domain.billing import due_fen

Selection = Mapping[str, Any]

BANDS = ("ge90", "ge80", "ge70", "ge60", "lt60", "no_selections")
BAND_LABELS = {
    "ge90": "通过率≥90%",
    "ge80": "通过率≥80%",
    "ge70": "通过率≥70%",
    "ge60": "通过率≥60%",
    "lt60": "通过率<60%",
    "no_selections": "选课人数为0",
}


def is_paid(selection: Selection) -> bool:
    return bool(selection.get("paid")) or due_fen(selection) == 0


def studied(selection: Selection) -> bool:
    return bool(selection.get("learning_started")) or selection.get("result") == "passed"


def rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


@dataclass(frozen=True)
class Participation:
    group: str
    places: int  # 人次: active selections
    persons: int  # distinct teachers with an active selection
    selected_paid: int  # 选修人数
    studied: int  # 学习人数
    passed: int  # 通过人数

    @property
    def learning_rate(self) -> float | None:
        return rate(self.studied, self.selected_paid)

    @property
    def pass_rate(self) -> float | None:
        return rate(self.passed, self.studied)


def passed_persons(paid: list[Selection]) -> set[str]:
    """Who passed: a passed course outside the ability project, or the ability project as a whole."""
    passed = {s["ce_number"] for s in paid if s.get("programme") != "ability" and s.get("result") == "passed"}
    ability: dict[str, list[Selection]] = {}
    for selection in paid:
        if selection.get("programme") == "ability":
            ability.setdefault(selection["ce_number"], []).append(selection)
    return passed | {ce for ce, courses in ability.items() if programme_status(courses).passed}


def _participation(group: str, selections: list[Selection]) -> Participation:
    active = [s for s in selections if s.get("status") == "active"]
    paid = [s for s in active if is_paid(s)]
    return Participation(
        group=group,
        places=len(active),
        persons=len({s["ce_number"] for s in active}),
        selected_paid=len({s["ce_number"] for s in paid}),
        studied=len({s["ce_number"] for s in paid if studied(s)}),
        passed=len(passed_persons(paid)),
    )


def participation(selections: Iterable[Selection], group_by: str) -> tuple[list[Participation], Participation]:
    """Rows per group (district or subject; missing values group as "未填写") and the overall total
    (distinct persons overall, so a total is never a sum of rows that double counts)."""
    groups: dict[str, list[Selection]] = {}
    everything: list[Selection] = []
    for selection in selections:
        everything.append(selection)
        groups.setdefault(str(selection.get(group_by) or "未填写"), []).append(selection)
    rows = [_participation(group, items) for group, items in sorted(groups.items())]
    return [row for row in rows if row.places], _participation("总计", everything)


def band(passed: int, total: int) -> str:
    """The pass-rate band of one course, in exact integer arithmetic (no float edge at 90 %)."""
    if total == 0:
        return "no_selections"
    for threshold, name in ((90, "ge90"), (80, "ge80"), (70, "ge70"), (60, "ge60")):
        if passed * 100 >= threshold * total:
            return name
    return "lt60"


def band_counts(courses: Iterable[tuple[int, int]]) -> dict[str, int]:
    """``(passed, total)`` per course → how many courses fall in each band."""
    counts = dict.fromkeys(BANDS, 0)
    for passed, total in courses:
        counts[band(passed, total)] += 1
    return counts


@dataclass(frozen=True)
class CourseSelections:
    course_code: str
    course_name: str | None
    places: int  # active selections (人次)
    paid: int  # of which paid (or free)


def selection_counts(selections: Iterable[Selection]) -> list[CourseSelections]:
    """选课统计: per course, how many selected it and how many of those are paid."""
    counts: dict[str, list[Any]] = {}
    for selection in selections:
        if selection.get("status") != "active":
            continue
        entry = counts.setdefault(str(selection["course_code"]), [selection.get("course_name"), 0, 0])
        entry[1] += 1
        entry[2] += 1 if is_paid(selection) else 0
    return [CourseSelections(code, name, places, paid) for code, (name, places, paid) in sorted(counts.items())]
