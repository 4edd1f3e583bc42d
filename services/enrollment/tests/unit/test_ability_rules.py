from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from enrollment.domain import ability as rules

T0 = datetime(2026, 9, 10, 8, 0, tzinfo=UTC)


def course(code: str, category: str, hours: float, **kw: Any) -> dict[str, Any]:
    return {"code": code, "ability_category": category, "hours": hours, **kw}


GENERAL = course("G", rules.GENERAL, 8, subject=None)
SUBJ_MATH_PRIMARY = course("SM", rules.SUBJECT, 18, subject="数学", stage="primary")
SUBJ_MATH_JUNIOR = course("SJ", rules.SUBJECT, 18, subject="数学", stage="junior")
SUBJ_ANY = course("SA", rules.SUBJECT, 18, subject=None, stage=None)
RESEARCH_MATH = course("RM", rules.RESEARCH, 16, subject="数学")
RESEARCH_CHINESE = course("RC", rules.RESEARCH, 16, subject="语文")


def test_eligibility_needs_profile_and_pilot() -> None:
    teacher = {"subject": "数学", "stage": "primary"}
    assert rules.eligibility_refusal(teacher, ["数学", "语文"]) is None
    assert rules.eligibility_refusal({**teacher, "stage": None}, ["数学"]) == "profile_incomplete"
    assert rules.eligibility_refusal({**teacher, "subject": ""}, ["数学"]) == "profile_incomplete"
    assert rules.eligibility_refusal(teacher, ["语文"]) == "not_in_pilot"
    assert rules.eligibility_refusal(teacher, None) == "not_in_pilot"


def test_three_attempts_and_none_after_confirmation() -> None:
    assert rules.attempt_refusal(0, False) is None
    assert rules.attempt_refusal(2, False) is None
    assert rules.attempt_refusal(3, False) == "diagnostic_attempts_exhausted"
    assert rules.attempt_refusal(1, True) == "diagnostic_confirmed"


def test_attempt_counts_only_after_twenty_minutes() -> None:
    assert rules.attempt_complete(T0, T0 + timedelta(minutes=20))
    assert not rules.attempt_complete(T0, T0 + timedelta(minutes=19, seconds=59))
    assert rules.attempt_complete(T0.replace(tzinfo=None), T0 + timedelta(minutes=25))


def test_compulsory_courses_match_subject_and_stage() -> None:
    picked = rules.compulsory_courses(
        [GENERAL, SUBJ_ANY, SUBJ_MATH_JUNIOR, SUBJ_MATH_PRIMARY, RESEARCH_CHINESE, RESEARCH_MATH],
        subject="数学",
        stage="primary",
    )
    assert {k: v["code"] for k, v in picked.items()} == {
        rules.GENERAL: "G",
        rules.SUBJECT: "SM",
        rules.RESEARCH: "RM",
    }
    fallback = rules.compulsory_courses([GENERAL, SUBJ_ANY, SUBJ_MATH_JUNIOR], subject="数学", stage="primary")
    assert fallback[rules.SUBJECT]["code"] == "SA"
    assert rules.RESEARCH not in fallback


OPTIONAL = [
    course("O10", rules.OPTIONAL, 10, series="S1"),
    course("O6", rules.OPTIONAL, 6, series="S1"),
    course("O4", rules.OPTIONAL, 4),
    course("O3", rules.OPTIONAL, 3, series="S2"),
    course("O2", rules.OPTIONAL, 2, series="S2"),
]


def test_recommendations_stay_within_sixty_hours_preferring_larger_courses() -> None:
    recommended = rules.recommend_optional(OPTIONAL, compulsory_hours=42)
    # 42 + 10 + 6 = 58: the 4 h and 3 h courses would exceed 60, the 2 h one still fits.
    assert [c["code"] for c in recommended] == ["O10", "O6", "O2"]
    assert rules.total_hours(recommended) + 42 == 60
    assert [c["code"] for c in rules.not_recommended(OPTIONAL, recommended)] == ["O4", "O3"]
    roomy = rules.recommend_optional(OPTIONAL, compulsory_hours=30)
    assert [c["code"] for c in roomy] == ["O10", "O6", "O4", "O3", "O2"]


def test_series_whole_or_course_by_course() -> None:
    assert [c["code"] for c in rules.expand_series(OPTIONAL, codes=[], series=["S2"])] == ["O3", "O2"]
    assert [c["code"] for c in rules.expand_series(OPTIONAL, codes=["O6"], series=[])] == ["O6"]


def test_confirmation_needs_compulsory_optional_eight_and_fifty_hours() -> None:
    compulsory = {rules.GENERAL: GENERAL, rules.SUBJECT: SUBJ_MATH_PRIMARY, rules.RESEARCH: RESEARCH_MATH}
    assert rules.confirm_refusal(compulsory, [OPTIONAL[0]]) is None  # 42 + 10 = 52
    assert rules.confirm_refusal(compulsory, [OPTIONAL[1]]) == "ability_optional_below_minimum"  # 6 h
    assert rules.confirm_refusal(compulsory, [OPTIONAL[2], OPTIONAL[3], OPTIONAL[4]]) is None  # 42 + 9 = 51
    assert rules.confirm_refusal({rules.GENERAL: GENERAL}, [OPTIONAL[0]]) == "ability_compulsory_missing"
    small = {rules.GENERAL: course("g", rules.GENERAL, 4), rules.SUBJECT: SUBJ_ANY, rules.RESEARCH: RESEARCH_MATH}
    assert rules.confirm_refusal(small, [OPTIONAL[0]]) == "ability_hours_below_minimum"  # 38 + 10 = 48


@pytest.mark.parametrize(
    "done,total,has_assignment,assignment,expected",
    [
        (6, 10, False, None, True),
        (5, 10, False, None, False),
        (3, 5, True, True, True),
        (3, 5, True, False, False),
        (10, 10, True, None, False),
        (2, 3, False, None, True),
        (0, 0, False, None, True),
    ],
)
def test_course_pass(done: int, total: int, has_assignment: bool, assignment: bool | None, expected: bool) -> None:
    assert (
        rules.course_passed(
            compulsory_done=done, compulsory_total=total, has_assignment=has_assignment, assignment_passed=assignment
        )
        is expected
    )


def test_programme_pass_needs_fifty_hours_and_every_compulsory_passed() -> None:
    passed = [
        {**GENERAL, "result": "passed"},
        {**SUBJ_MATH_PRIMARY, "result": "passed"},
        {**RESEARCH_MATH, "result": "passed"},
        {**OPTIONAL[0], "result": "passed"},
    ]
    assert rules.programme_status(passed) == rules.ProgrammeStatus(52.0, True, True)
    failed_compulsory = [
        *passed[:2],
        {**RESEARCH_MATH, "result": "failed"},
        *passed[3:],
        {**OPTIONAL[1], "result": "passed"},
    ]
    state = rules.programme_status(failed_compulsory)
    assert state.obtained_hours == 42 and not state.compulsory_passed and not state.passed
    short = [*passed[:3], {**OPTIONAL[2], "result": "passed"}]
    assert rules.programme_status(short) == rules.ProgrammeStatus(46.0, True, False)


def test_retake_candidates_are_failed_ability_courses_of_earlier_terms() -> None:
    selections = [
        {"programme": "ability", "result": "failed", "status": "active", "term": "2601"},
        {"programme": "ability", "result": "passed", "status": "active", "term": "2601"},
        {"programme": "ability", "result": "failed", "status": "cancelled", "term": "2601"},
        {"programme": "city", "result": "failed", "status": "active", "term": "2601"},
        {"programme": "ability", "result": "failed", "status": "active", "term": "2602"},
    ]
    assert rules.retake_candidates(selections, term="2602") == [selections[0]]
