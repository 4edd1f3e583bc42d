from decimal import Decimal
from typing import Any

import pytest

from enrollment.domain.catalogue import CourseRuleViolation, fen_to_yuan, recommend, validate_course, yuan_to_fen


def course(code: str, **kw: Any) -> dict[str, Any]:
    base = {
        "code": code,
        "programme": "city",
        "hour_type": "professional",
        "hours": 24,
        "subject": "语文",
        "stage": "primary",
        "capacity": None,
        "taken": 0,
    }
    base.update(kw)
    return base


@pytest.mark.parametrize("yuan,fen", [("0", 0), ("120.5", 12050), (Decimal("99.99"), 9999), (3, 300)])
def test_money_is_stored_in_fen(yuan: Any, fen: int) -> None:
    assert yuan_to_fen(yuan) == fen
    assert fen_to_yuan(fen) == Decimal(str(yuan)).quantize(Decimal("0.01"))


@pytest.mark.parametrize("bad", ["-1", "1.234", "abc", "NaN"])
def test_bad_money_is_refused(bad: str) -> None:
    with pytest.raises(CourseRuleViolation):
        yuan_to_fen(bad)


@pytest.mark.parametrize(
    "fields,code",
    [
        ({"hours": 0}, "invalid_hours"),
        ({"capacity": 0}, "invalid_capacity"),
        ({"programme": "district"}, "district_required"),
        ({"programme": "school"}, "school_required"),
        ({"programme": "ability"}, "ability_category_required"),
        ({"ability_category": "optional"}, "invalid_ability_category"),
        ({"programme": "nope"}, "invalid_programme"),
    ],
)
def test_course_rules(fields: dict[str, Any], code: str) -> None:
    with pytest.raises(CourseRuleViolation) as err:
        validate_course(course("C", **fields))
    assert err.value.code == code


def test_valid_courses() -> None:
    validate_course(course("C"))
    validate_course(course("D", programme="district", district="天河区", capacity=30))
    validate_course(course("A", programme="ability", ability_category="optional"))


def test_recommendations_match_subject_stage_and_need() -> None:
    catalogue = [course(f"M{i}", subject="数学", stage="senior") for i in range(10)]
    catalogue += [course("Y1"), course("Y2", stage="junior"), course("P1", hour_type="public", subject=None)]
    catalogue += [course("FULL", capacity=3, taken=3), course("AB", programme="ability"), course("MINE")]
    picked = recommend(
        catalogue, subject="语文", stage="primary", passed_hours={"public": 0, "professional": 40}, already={"MINE"}
    )
    codes = [c["code"] for c in picked]
    assert 5 <= len(codes) <= 8
    assert codes[0] == "Y1" and set(codes[1:3]) == {"Y2", "P1"}
    assert "P1" in codes  # the most needed hour type (public) is represented
    assert not {"FULL", "AB", "MINE"} & set(codes)


def test_recommendations_are_at_most_eight_and_all_when_few() -> None:
    assert (
        len(recommend([course(f"C{i}") for i in range(20)], subject=None, stage=None, passed_hours={}, already=set()))
        == 8
    )
    assert (
        len(recommend([course(f"C{i}") for i in range(3)], subject=None, stage=None, passed_hours={}, already=set()))
        == 3
    )


def test_recommendations_leave_out_closed_courses_and_what_the_teacher_cannot_select() -> None:
    catalogue = [
        course("OPEN"),
        course("SHUT", status="closed"),
        course("ELSEWHERE", programme="district", district="海珠区"),
    ]
    picked = recommend(
        catalogue,
        subject=None,
        stage=None,
        passed_hours={},
        already=set(),
        selectable=lambda c: c.get("programme") != "district" or c.get("district") == "天河区",
    )
    assert [c["code"] for c in picked] == ["OPEN"]
