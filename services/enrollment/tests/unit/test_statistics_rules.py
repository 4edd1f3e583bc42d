"""The seed's statistics definitions: 选修人数, 学习人数, 学习率, 通过人数, 通过率, and pass-rate bands."""

from __future__ import annotations

from typing import Any

import pytest

from enrollment.domain.statistics import band, band_counts, participation


def sel(ce: str, district: str = "天河区", subject: str | None = "语文", **fields: Any) -> dict[str, Any]:
    base = {
        "ce_number": ce,
        "district": district,
        "subject": subject,
        "status": "active",
        "paid": True,
        "learning_started": False,
        "result": None,
        "programme": "city",
        "hour_type": "professional",
        "training_fee_fen": 100,
        "material_fee_fen": 0,
    }
    return {**base, **fields}


def test_rates_follow_the_seed_definitions() -> None:
    selections = [
        sel("a", learning_started=True, result="passed"),
        sel("b", learning_started=True, result="failed"),
        sel("c", learning_started=True),
        sel("d"),  # paid, never studied
        sel("e", paid=False, learning_started=True, result="passed"),  # not paid: not a 选修人数
    ]
    [row], total = participation(selections, "district")
    assert (row.selected_paid, row.studied, row.passed) == (4, 3, 1)
    assert row.learning_rate == 0.75  # studied / selected-and-paid
    assert row.pass_rate == round(1 / 3, 4)  # passed / studied
    assert (row.places, row.persons) == (5, 5)
    assert total.selected_paid == 4


def test_persons_are_distinct_across_several_selections() -> None:
    selections = [
        sel("a", course_code="1", learning_started=True, result="passed"),
        sel("a", course_code="2", learning_started=True, result="failed"),
        sel("b", course_code="1"),
    ]
    [row], _ = participation(selections, "district")
    assert (row.places, row.persons, row.selected_paid, row.studied, row.passed) == (3, 2, 2, 1, 1)


def test_a_pass_counts_as_having_studied() -> None:
    [row], _ = participation([sel("a", result="passed")], "district")
    assert (row.studied, row.passed, row.pass_rate) == (1, 1, 1.0)


def test_free_courses_need_no_payment() -> None:
    [row], _ = participation([sel("a", paid=False, training_fee_fen=0, learning_started=True)], "district")
    assert row.selected_paid == 1 and row.studied == 1


def test_grouping_by_district_and_subject_and_total() -> None:
    selections = [
        sel("a", district="天河区", subject="语文", learning_started=True),
        sel("b", district="海珠区", subject="语文"),
        sel("c", district="海珠区", subject=None, learning_started=True, result="passed"),
    ]
    rows, total = participation(selections, "district")
    assert [(r.group, r.selected_paid, r.studied) for r in rows] == [("天河区", 1, 1), ("海珠区", 2, 1)]
    rows, total = participation(selections, "subject")
    assert [(r.group, r.selected_paid) for r in rows] == [("未填写", 1), ("语文", 2)]
    assert (total.group, total.selected_paid, total.studied, total.passed) == ("总计", 3, 2, 1)


def test_empty_rates_are_none() -> None:
    [row], _ = participation([sel("a", paid=False)], "district")
    assert row.selected_paid == 0 and row.learning_rate is None and row.pass_rate is None


def test_cancelled_selections_do_not_count() -> None:
    rows, total = participation([sel("a", status="cancelled")], "district")
    assert rows == [] and total.places == 0


@pytest.mark.parametrize(
    ("passed", "total", "expected"),
    [
        (9, 10, "ge90"),
        (10, 10, "ge90"),
        (899, 1000, "ge80"),
        (8, 10, "ge80"),
        (7, 10, "ge70"),
        (6, 10, "ge60"),
        (599, 1000, "lt60"),
        (0, 3, "lt60"),
        (0, 0, "no_selections"),
        (2, 3, "ge60"),
        (9, 11, "ge80"),
    ],
)
def test_pass_rate_bands(passed: int, total: int, expected: str) -> None:
    assert band(passed, total) == expected


def test_band_counts() -> None:
    counts = band_counts([(10, 10), (9, 10), (5, 10), (0, 0), (7, 10)])
    assert counts == {"ge90": 2, "ge80": 0, "ge70": 1, "ge60": 0, "lt60": 1, "no_selections": 1}


def test_selection_counts_per_course() -> None:
    from enrollment.domain.statistics import selection_counts

    counts = selection_counts(
        [
            sel("a", course_code="1", course_name="一"),
            sel("b", course_code="1", paid=False),
            sel("c", course_code="2"),
            sel("d", course_code="2", status="cancelled"),
        ]
    )
    assert [(c.course_code, c.places, c.paid) for c in counts] == [("1", 2, 1), ("2", 1, 1)]


def test_in_the_ability_project_a_person_passes_with_50_hours_and_every_compulsory_course() -> None:
    """The seed: 通过人数（50学时以上且必修通过）, not one passed course."""
    from enrollment.domain.ability import GENERAL, RESEARCH, SUBJECT

    def ability(ce: str, category: str, hours: int, result: str | None) -> dict[str, Any]:
        return sel(
            ce, programme="ability", ability_category=category, hours=hours, result=result, learning_started=True
        )

    compulsory = [(GENERAL, 20), (SUBJECT, 20), (RESEARCH, 10)]
    full = [ability("full", c, h, "passed") for c, h in compulsory]
    short = [ability("short", c, h, "passed") for c, h in compulsory[:2]] + [ability("short", RESEARCH, 10, "failed")]
    few_hours = [ability("few", c, h, "passed") for c, h in [(GENERAL, 10), (SUBJECT, 10), (RESEARCH, 10)]]
    [row], _ = participation(full + short + few_hours, "district")
    assert (row.studied, row.passed) == (3, 1)
