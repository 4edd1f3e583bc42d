from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from enrollment.domain.terms import TermDates, TermRuleViolation, seconds_until_close, validate_term, window_open

OPENS = datetime(2026, 9, 1, tzinfo=UTC)
CLOSES = datetime(2026, 9, 20, tzinfo=UTC)
TERM = {"selection_opens_at": OPENS, "selection_closes_at": CLOSES}


def dates(**kw: object) -> TermDates:
    base: dict[str, Any] = {
        "selection_opens_at": OPENS,
        "selection_closes_at": CLOSES,
        "study_starts_on": date(2026, 10, 10),
        "study_ends_on": date(2026, 12, 10),
        "payment_due_at": CLOSES + timedelta(days=10),
    }
    base.update(kw)
    return TermDates(**base)


def test_valid_term() -> None:
    validate_term("2602", 2026, dates())


@pytest.mark.parametrize("code,year", [("2602", 2025), ("26A2", 2026), ("2600", 2026), ("26021", 2026)])
def test_term_code_must_match_year(code: str, year: int) -> None:
    with pytest.raises(TermRuleViolation) as err:
        validate_term(code, year, dates())
    assert err.value.code == "invalid_term_code"


@pytest.mark.parametrize(
    "override",
    [
        {"selection_closes_at": OPENS},
        {"study_ends_on": date(2026, 10, 1)},
        {"payment_due_at": CLOSES - timedelta(seconds=1)},
    ],
)
def test_dates_must_be_ordered(override: dict[str, object]) -> None:
    with pytest.raises(TermRuleViolation) as err:
        validate_term("2602", 2026, dates(**override))
    assert err.value.code == "invalid_term_dates"


def test_window_is_half_open() -> None:
    assert not window_open(TERM, OPENS - timedelta(microseconds=1))
    assert window_open(TERM, OPENS)
    assert window_open(TERM, CLOSES - timedelta(microseconds=1))
    assert not window_open(TERM, CLOSES)


def test_naive_store_datetimes_are_utc() -> None:
    naive = {"selection_opens_at": OPENS.replace(tzinfo=None), "selection_closes_at": CLOSES.replace(tzinfo=None)}
    assert window_open(naive, OPENS + timedelta(hours=1))


def test_countdown_only_inside_the_window() -> None:
    assert seconds_until_close(TERM, CLOSES - timedelta(seconds=90)) == 90
    assert seconds_until_close(TERM, CLOSES) is None


def test_times_written_by_set_come_back_as_strings() -> None:
    from enrollment.domain.terms import aware

    assert aware("2026-09-10T08:00:00") == datetime(2026, 9, 10, 8, tzinfo=UTC)
    assert aware("2026-09-10T08:00:00+08:00") == datetime(2026, 9, 10, 0, tzinfo=UTC)
