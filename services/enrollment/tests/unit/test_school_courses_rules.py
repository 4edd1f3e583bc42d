"""School-based course rules: declaration deadline, review deadline, editing until approved, enrollment."""

from __future__ import annotations

from datetime import date

import pytest

from enrollment.domain.school_courses import (
    current_term,
    declaration_refusal,
    edit_refusal,
    enrollment_refusal,
    review_due_on,
    review_refusal,
)


def test_declaration_until_31_december_of_the_course_year() -> None:
    assert declaration_refusal(date(2026, 12, 31), 2026) is None
    assert declaration_refusal(date(2026, 1, 1), 2026) is None
    assert declaration_refusal(date(2027, 1, 1), 2026) == "declaration_closed"
    assert declaration_refusal(date(2026, 11, 1), 2027) is None  # declaring ahead is fine


def test_review_due_within_a_month_and_never_after_year_end() -> None:
    assert review_due_on(date(2026, 3, 1)) == date(2026, 4, 1)
    assert review_due_on(date(2026, 12, 20)) == date(2026, 12, 31)


@pytest.mark.parametrize(
    ("status", "code"), [("declared", None), ("approved", "course_not_pending"), ("rejected", "course_not_pending")]
)
def test_review_only_of_pending_declarations(status: str, code: str | None) -> None:
    assert review_refusal({"declaration_status": status}, date(2026, 5, 1), 2026) == code


def test_review_closes_at_year_end() -> None:
    assert review_refusal({"declaration_status": "declared"}, date(2027, 1, 2), 2026) == "review_closed"


@pytest.mark.parametrize(
    ("status", "code"), [("declared", None), ("rejected", None), ("approved", "course_approved_locked")]
)
def test_editable_only_until_approved(status: str, code: str | None) -> None:
    assert edit_refusal({"declaration_status": status}) == code


def test_enrollment_after_approval_and_only_for_the_schools_teachers() -> None:
    course = {"declaration_status": "approved", "school_id": "s1"}
    assert enrollment_refusal(course, {"school_id": "s1"}) is None
    assert enrollment_refusal(course, {"school_id": "s2"}) == "teacher_not_in_school"
    assert (
        enrollment_refusal({**course, "declaration_status": "declared"}, {"school_id": "s1"}) == "course_not_approved"
    )


def test_current_term_is_the_latest_of_the_year() -> None:
    terms = [{"_id": "2601", "year": 2026}, {"_id": "2602", "year": 2026}, {"_id": "2701", "year": 2027}]
    assert current_term(terms, 2026) == "2602"
    assert current_term(terms, 2025) is None
