from studio.domain.evaluation import (
    YEAR_MS,
    Grade,
    editable,
    excellent_cap,
    grade_problem,
    long_enough,
    period_end_ms,
    period_problem,
    too_absent,
)


def test_thirty_percent_rounded_down() -> None:
    assert [excellent_cap(n) for n in (3, 4, 5, 8, 10, 12)] == [0, 1, 1, 2, 3, 3]


def test_two_years_in_the_studio() -> None:
    end = period_end_ms("cycle", 2028)
    assert long_enough(end - 2 * YEAR_MS, end) and not long_enough(end - 2 * YEAR_MS + 1, end)
    assert (
        grade_problem(Grade.EXCELLENT, joined_ms=end - YEAR_MS, end_ms=end, required=0, attended=0)
        == "too_new_for_excellent"
    )
    assert grade_problem(Grade.GOOD, joined_ms=end - YEAR_MS, end_ms=end, required=0, attended=0) is None


def test_one_seventh_absence_means_unqualified() -> None:
    assert too_absent(7, 6) and not too_absent(8, 7) and too_absent(14, 12) and not too_absent(0, 0)
    assert (
        grade_problem(Grade.QUALIFIED, joined_ms=0, end_ms=3 * YEAR_MS, required=7, attended=6) == "absent_unqualified"
    )
    assert grade_problem(Grade.UNQUALIFIED, joined_ms=0, end_ms=3 * YEAR_MS, required=7, attended=6) is None


def test_periods_and_editability() -> None:
    assert period_problem("cycle", (2026, 2028)) is None and period_problem("2027", (2026, 2028)) is None
    assert period_problem("2029", (2026, 2028)) and period_problem("20x6", (2026, 2028))
    assert editable(period_end_ms("cycle", 2028) - 1, 2028) and not editable(period_end_ms("cycle", 2028), 2028)
