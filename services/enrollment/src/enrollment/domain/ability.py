"""Ability-improvement project (信息技术应用能力提升工程, DOMAIN §2a). Pure rules, no I/O.

Numbers are defaults of ``AbilityRules`` (the seed's values); callers may pass other rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from enrollment.domain.terms import aware

Doc = Mapping[str, Any]
D = TypeVar("D", bound=Mapping[str, Any])

GENERAL = "general_compulsory"  # 通识必修 8 h, any subject
SUBJECT = "subject_compulsory"  # 专业必修 18 h, by subject and stage
RESEARCH = "school_research"  # 网络研修/校本研修 16 h, by subject
OPTIONAL = "optional"  # 任意选修 >= 8 h, micro-course series
COMPULSORY = (GENERAL, SUBJECT, RESEARCH)
ANY_SUBJECT = (None, "", "通用", "全科")


@dataclass(frozen=True)
class AbilityRules:
    max_attempts: int = 3
    min_assessment: timedelta = timedelta(minutes=20)
    confirm_min_hours: float = 50.0
    recommend_max_hours: float = 60.0
    optional_min_hours: float = 8.0
    activity_pass_ratio: float = 0.6
    programme_pass_hours: float = 50.0


RULES = AbilityRules()


def eligibility_refusal(teacher: Doc, pilot_subjects: Sequence[str] | None) -> str | None:
    """The teacher's stage and subject must be filled (and approved: the record holds approved
    values only); the project applies to pilot districts x subjects of the term."""
    if not teacher.get("stage") or not teacher.get("subject"):
        return "profile_incomplete"
    if pilot_subjects is None or teacher["subject"] not in pilot_subjects:
        return "not_in_pilot"
    return None


def attempt_refusal(attempts_used: int, confirmed: bool, rules: AbilityRules = RULES) -> str | None:
    """Diagnostic assessment (诊断测评): up to 3 attempts ("再测一次"), none after confirmation."""
    if confirmed:
        return "diagnostic_confirmed"
    if attempts_used >= rules.max_attempts:
        return "diagnostic_attempts_exhausted"
    return None


def attempt_complete(started_at: datetime, finished_at: datetime, rules: AbilityRules = RULES) -> bool:
    """An attempt counts only when the questionnaire took at least 20 minutes; an interrupted
    attempt starts over (it is not recorded)."""
    return aware(finished_at) - aware(started_at) >= rules.min_assessment


def _matches(value: Any, wanted: str | None) -> bool:
    return value in ANY_SUBJECT or value == wanted


def compulsory_courses(courses: Iterable[D], *, subject: str, stage: str) -> dict[str, D]:
    """The three pre-selected compulsory courses: general (any subject), subject compulsory (subject
    and stage), school-based research (subject). Exact matches win over "any subject" courses; a
    category without a match is missing from the result."""
    best: dict[str, tuple[int, str, D]] = {}
    for course in courses:
        category = course.get("ability_category")
        if category == GENERAL or (
            category == SUBJECT and course.get("subject") == subject and course.get("stage") == stage
        ):
            rank = 0
        elif category == SUBJECT and _matches(course.get("subject"), subject) and _matches(course.get("stage"), stage):
            rank = 1
        elif category == RESEARCH and course.get("subject") == subject:
            rank = 0
        elif category == RESEARCH and course.get("subject") in ANY_SUBJECT:
            rank = 1
        else:
            continue
        current = best.get(category)
        candidate = (rank, str(course["code"]), course)
        if current is None or candidate[:2] < current[:2]:
            best[category] = candidate
    return {category: entry[2] for category, entry in best.items()}


def total_hours(courses: Iterable[Doc]) -> float:
    return float(sum(float(course["hours"]) for course in courses))


def recommend_optional(optional: Iterable[D], *, compulsory_hours: float, rules: AbilityRules = RULES) -> list[D]:
    """Recommended optional courses: keep the plan total <= 60 h, preferring larger-hour courses.
    Greedy by hours (largest first, then code), single courses so that a series can also be taken
    course by course."""
    budget = rules.recommend_max_hours - compulsory_hours
    picked: list[D] = []
    ordered = sorted(
        (course for course in optional if course.get("ability_category") == OPTIONAL),
        key=lambda course: (-float(course["hours"]), str(course["code"])),
    )
    for course in ordered:
        if float(course["hours"]) <= budget + 1e-9:
            picked.append(course)
            budget -= float(course["hours"])
    return picked


def not_recommended(optional: Iterable[D], recommended: Iterable[Mapping[str, Any]]) -> list[D]:
    """What "re-select" (重新选择) shows: the optional courses that were not recommended."""
    chosen = {course["code"] for course in recommended}
    return [
        course for course in optional if course.get("ability_category") == OPTIONAL and course["code"] not in chosen
    ]


def expand_series(optional: Iterable[D], *, codes: Iterable[str], series: Iterable[str]) -> list[D]:
    """Optional courses chosen course by course (codes) or as whole series."""
    wanted_codes, wanted_series = set(codes), set(series)
    return [
        course
        for course in optional
        if course.get("ability_category") == OPTIONAL
        and (course["code"] in wanted_codes or (course.get("series") and course["series"] in wanted_series))
    ]


def confirm_refusal(compulsory: Mapping[str, Doc], optional: Sequence[Doc], rules: AbilityRules = RULES) -> str | None:
    """The plan can be confirmed only with all three compulsory courses, >= 8 h optional and a
    total of at least 50 h."""
    if any(category not in compulsory for category in COMPULSORY):
        return "ability_compulsory_missing"
    if total_hours(optional) < rules.optional_min_hours:
        return "ability_optional_below_minimum"
    if total_hours(compulsory.values()) + total_hours(optional) < rules.confirm_min_hours:
        return "ability_hours_below_minimum"
    return None


def course_passed(
    *,
    compulsory_done: int,
    compulsory_total: int,
    has_assignment: bool,
    assignment_passed: bool | None,
    rules: AbilityRules = RULES,
) -> bool:
    """Course pass: at least 60 % of the compulsory activities done, plus the assignment passed
    where the course has one."""
    if compulsory_total <= 0:
        ratio_ok = True
    else:
        ratio_ok = compulsory_done * 100 >= compulsory_total * round(rules.activity_pass_ratio * 100)
    return ratio_ok and (not has_assignment or bool(assignment_passed))


@dataclass(frozen=True)
class ProgrammeStatus:
    obtained_hours: float
    compulsory_passed: bool
    passed: bool


def programme_status(courses: Iterable[Doc], rules: AbilityRules = RULES) -> ProgrammeStatus:
    """Programme pass: >= 50 h obtained (passed courses) and every compulsory course passed.
    ``courses`` carry ``ability_category``, ``hours`` and ``result`` (None|"passed"|"failed")."""
    obtained = 0.0
    compulsory_seen: dict[str, bool] = {}
    for course in courses:
        passed = course.get("result") == "passed"
        if passed:
            obtained += float(course["hours"])
        category = course.get("ability_category")
        if category in COMPULSORY:
            compulsory_seen[category] = compulsory_seen.get(category, False) or passed
    compulsory_ok = all(compulsory_seen.get(category, False) for category in COMPULSORY)
    return ProgrammeStatus(obtained, compulsory_ok, compulsory_ok and obtained >= rules.programme_pass_hours)


def retake_candidates(selections: Iterable[Doc], *, term: str) -> list[Doc]:
    """重修: ability courses failed in earlier terms (and not cancelled) get reopened in ``term``."""
    return [
        selection
        for selection in selections
        if selection.get("programme") == "ability"
        and selection.get("result") == "failed"
        and selection.get("status") == "active"
        and str(selection.get("term")) < term
    ]
