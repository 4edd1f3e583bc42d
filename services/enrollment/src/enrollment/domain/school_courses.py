"""School-based training (校本培训, DOMAIN §5). Pure rules, no I/O.

Seed (school-admin manual, 校本培训管理): the school declares each course (课程申报) by 31 December of the
year; the reviewing unit answers within one month and the review deadline is also 31 December; a course
can be edited until it is approved, never after; the term defaults to the current term; after approval
the school admin enrolls its teachers (hours count only for teachers enrolled on the platform) and,
after the training, registers results (current year only). School-based hours are elective; the hours
bank caps them at 18 a year.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

DECLARED = "declared"
APPROVED = "approved"
REJECTED = "rejected"
EDITABLE = frozenset({DECLARED, REJECTED})
REVIEW_DAYS = 31  # "应在1个月内予以批复"


def declaration_refusal(today: date, course_year: int) -> str | None:
    """A course of year Y may be declared until 31 December of Y (earlier years are closed)."""
    return "declaration_closed" if today > date(course_year, 12, 31) else None


def review_due_on(declared_on: date) -> date:
    """When the reviewing unit should have answered: one month after declaring, at the latest 31 Dec."""
    return min(declared_on + timedelta(days=REVIEW_DAYS), date(declared_on.year, 12, 31))


def review_refusal(course: Mapping[str, Any], today: date, course_year: int) -> str | None:
    if course.get("declaration_status") != DECLARED:
        return "course_not_pending"
    if today > date(course_year, 12, 31):
        return "review_closed"  # 课程审核截止日期为本年度12月31日
    return None


def edit_refusal(course: Mapping[str, Any]) -> str | None:
    return None if course.get("declaration_status") in EDITABLE else "course_approved_locked"


def enrollment_refusal(course: Mapping[str, Any], teacher: Mapping[str, Any]) -> str | None:
    if course.get("declaration_status") != APPROVED:
        return "course_not_approved"
    if teacher.get("school_id") != course.get("school_id"):
        return "teacher_not_in_school"
    return None


def current_term(terms: Iterable[Mapping[str, Any]], year: int) -> str | None:
    """The default term of a declaration: the latest term of the current year (系统自动默认当前期数)."""
    codes = sorted(str(t["_id"]) for t in terms if int(t.get("year") or 0) == year)
    return codes[-1] if codes else None
