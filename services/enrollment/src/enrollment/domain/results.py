"""Results (DOMAIN §4): who may register which result, what a result means for the hours bank, and
the per-course pass statistics. Pure rules, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class RegistrarKind(StrEnum):
    CITY = "city"  # the city centre may register any result
    INSTITUTION = "institution"  # a training institution: its own courses
    SCHOOL = "school"  # a school admin: its school-based courses of the current year
    NONE = "none"


@dataclass(frozen=True)
class Registrar:
    kind: RegistrarKind
    institution_id: str | None = None
    school_id: str | None = None


def registration_refusal(
    registrar: Registrar, course: Mapping[str, Any], *, course_year: int, current_year: int
) -> str | None:
    """None when ``registrar`` may register results of ``course``, else a refusal code.

    - the city registers any result;
    - an institution registers results of courses whose ``institution_id`` is its own;
    - a school admin registers results of its own school-based courses (programme "school") of the
      current year only; earlier years are read-only (seed: 此处只能登记本年度的校本培训成绩).
    """
    if registrar.kind is RegistrarKind.CITY:
        return None
    if registrar.kind is RegistrarKind.INSTITUTION:
        owner = course.get("institution_id")
        return None if owner and owner == registrar.institution_id else "not_course_institution"
    if registrar.kind is RegistrarKind.SCHOOL:
        if course.get("programme") != "school" or course.get("school_id") != registrar.school_id:
            return "not_school_course"
        if course_year != current_year:
            return "result_year_closed"
        return None
    return "results_forbidden"


def result_value(passed: bool) -> str:
    return "passed" if passed else "failed"


def hours_source(programme: str | None) -> str:
    """The hours bank's source: school-based training is capped (18 elective hours a year) there."""
    return "school_based" if programme == "school" else "platform_course"


def certificate_refusal(selection: Mapping[str, Any]) -> str | None:
    """成绩打印: only a passed, active selection has a certificate."""
    if selection.get("status") != "active":
        return "selection_cancelled"
    if selection.get("result") != "passed":
        return "result_not_passed"
    return None


@dataclass(frozen=True)
class CoursePassStats:
    course_code: str
    course_name: str | None
    passed: int
    not_passed: int
    total: int

    @property
    def pass_rate(self) -> float | None:
        """Passed / total selections of the course (学员通过率); None for a course nobody selected."""
        return round(self.passed / self.total, 4) if self.total else None


def course_pass_stats(
    selections: Iterable[Mapping[str, Any]], courses: Iterable[Mapping[str, Any]] = ()
) -> list[CoursePassStats]:
    """Per course: passed, not passed (everyone else who selected it: failed or no result), total.
    Courses given in ``courses`` that nobody selected appear with total 0."""
    counts: dict[str, list[Any]] = {}
    for course in courses:
        counts.setdefault(str(course["code"]), [course.get("name"), 0, 0])
    for selection in selections:
        if selection.get("status") != "active":
            continue
        entry = counts.setdefault(str(selection["course_code"]), [selection.get("course_name"), 0, 0])
        entry[0] = entry[0] or selection.get("course_name")
        entry[2] += 1
        if selection.get("result") == "passed":
            entry[1] += 1
    return [
        CoursePassStats(course_code=code, course_name=name, passed=passed, not_passed=total - passed, total=total)
        for code, (name, passed, total) in sorted(counts.items())
    ]
