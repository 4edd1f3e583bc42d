from datetime import UTC, date, datetime
from typing import Any

import pytest

from baseline.domain import programme as rules

NOW = datetime(2019, 7, 1, tzinfo=UTC)
LATER = datetime(2019, 7, 15, tzinfo=UTC)


def test_academic_years_are_two_consecutive_years() -> None:
    assert rules.parse_year("2019-2020") == 2019
    assert rules.parse_year("2019-2021") is None and rules.parse_year("2019") is None
    assert rules.year_after("2019-2020") == "2020-2021" and rules.year_before("2019-2020") == "2018-2019"


def test_deadlines_come_in_order() -> None:
    assert rules.deadlines_refusal(demand=NOW, personnel=LATER, report=LATER) is None
    assert rules.deadlines_refusal(demand=LATER, personnel=NOW, report=LATER) == "deadline_order"


@pytest.mark.parametrize(
    ("free", "places", "hint"),
    [(20, 20, "ample"), (10, 20, "ample"), (9, 20, "moderate"), (1, 20, "moderate"), (0, 20, "none"), (0, 0, "none")],
)
def test_availability_hints(free: int, places: int, hint: str) -> None:
    assert rules.availability(free, places) == hint


def test_the_remark_has_at_most_30_characters() -> None:
    assert rules.remark_refusal(None) is None
    assert rules.remark_refusal("长" * 30) is None
    assert rules.remark_refusal("长" * 31) == "remark_too_long"


def test_demands_before_the_deadline_for_stages_with_places() -> None:
    assert rules.demand_refusal(now=NOW, deadline=LATER, stage_free=5, remark=None) is None
    assert rules.demand_refusal(now=LATER.replace(day=16), deadline=LATER, stage_free=5, remark=None) == (
        "demand_deadline_passed"
    )
    assert rules.demand_refusal(now=NOW, deadline=LATER, stage_free=0, remark=None) == "stage_full"


def test_personnel_until_confirmation_and_deadline_then_only_the_centre() -> None:
    assert rules.TRAINEES_PER_BATCH == 5
    assert rules.personnel_refusal(now=NOW, deadline=LATER, confirmed=False, by_centre=False) is None
    assert rules.personnel_refusal(now=NOW, deadline=LATER, confirmed=True, by_centre=False) == "personnel_confirmed"
    assert rules.personnel_refusal(now=LATER.replace(day=16), deadline=LATER, confirmed=False, by_centre=False) == (
        "personnel_deadline_passed"
    )
    assert rules.personnel_refusal(now=LATER.replace(day=16), deadline=LATER, confirmed=True, by_centre=True) is None


def test_reporting_needs_a_confirmed_list_before_the_deadline() -> None:
    assert rules.report_refusal(now=NOW, deadline=LATER, confirmed=False) == "personnel_not_confirmed"
    assert rules.report_refusal(now=NOW, deadline=LATER, confirmed=True) is None
    assert rules.report_refusal(now=LATER.replace(day=16), deadline=LATER, confirmed=True) == "report_deadline_passed"


def test_a_stay_is_two_weeks_and_check_in_happens_during_it() -> None:
    assert rules.stay_refusal(date(2019, 9, 16), date(2019, 9, 29)) is None
    assert rules.stay_refusal(date(2019, 9, 16), date(2019, 10, 29)) == "stay_not_two_weeks"
    assert rules.stay_refusal(date(2019, 9, 16), date(2019, 9, 15)) == "stay_not_two_weeks"
    start, end = date(2019, 9, 16), date(2019, 9, 29)
    assert rules.check_in_refusal(today=date(2019, 9, 15), starts_on=start, ends_on=end) == "stay_not_started"
    assert rules.check_in_refusal(today=start, starts_on=start, ends_on=end) is None
    assert rules.check_in_refusal(today=date(2019, 9, 30), starts_on=start, ends_on=end) == "stay_over"


def test_outcomes_within_three_months_after_the_stay() -> None:
    end = date(2019, 11, 30)
    assert rules.outcome_due(end) == date(2020, 2, 29)  # the month's last day when it is shorter
    assert rules.outcome_due(date(2019, 9, 29)) == date(2019, 12, 29)
    assert rules.outcome_refusal(today=date(2019, 11, 29), ends_on=end) == "stay_not_over"
    assert rules.outcome_refusal(today=end, ends_on=end) is None  # from the last day of the stay
    assert rules.outcome_refusal(today=date(2019, 12, 1), ends_on=end) is None
    assert rules.outcome_refusal(today=date(2020, 2, 29), ends_on=end) is None
    assert rules.outcome_refusal(today=date(2020, 3, 1), ends_on=end) == "outcome_window_closed"
    assert rules.reminder_due(today=date(2020, 2, 20), ends_on=end)
    assert not rules.reminder_due(today=date(2020, 1, 20), ends_on=end)
    assert rules.overdue(today=date(2020, 3, 1), ends_on=end) and not rules.overdue(
        today=date(2020, 2, 29), ends_on=end
    )


def test_the_sharing_session_lies_between_the_stays_last_day_and_today_within_three_months() -> None:
    end = date(2019, 11, 30)

    def refusal(today: date, shared_on: date) -> str | None:
        return rules.sharing_refusal(today=today, ends_on=end, shared_on=shared_on)

    assert refusal(date(2019, 11, 29), date(2019, 11, 29)) == "sharing_not_open"
    assert refusal(end, end) is None  # on the last day of the stay
    assert refusal(date(2019, 12, 10), date(2019, 11, 29)) == "sharing_date_invalid"  # before it ended
    assert refusal(date(2019, 12, 10), date(2019, 12, 11)) == "sharing_date_invalid"  # in the future
    assert refusal(date(2019, 12, 10), date(2019, 12, 10)) is None
    assert refusal(date(2020, 2, 29), date(2020, 1, 5)) is None  # the window's last day
    assert refusal(date(2020, 3, 1), date(2020, 1, 5)) == "sharing_window_closed"


def test_reflections_have_at_most_10000_characters() -> None:
    assert rules.reflection_refusal(10_000) is None
    assert rules.reflection_refusal(10_001) == "reflection_too_long"
    assert rules.reflection_refusal(0) == "reflection_empty"


def test_every_refusal_code_has_a_chinese_title() -> None:
    for status, title, detail in rules.PROBLEMS.values():
        assert (400 <= status < 500 or status == 503) and title and detail  # 503: busy, retry
        assert any("\u4e00" <= ch <= "\u9fff" for ch in title)


def test_an_allocation_answers_an_approved_demand_of_the_batch_year_and_stage_within_its_places() -> None:
    demand = {"status": "approved", "year": "2019-2020", "stage": "primary", "unallocated": 5}

    def refusal(places: int = 5, **changes: Any) -> str | None:
        return rules.allocation_refusal(
            {**demand, **changes}, batch_year="2019-2020", batch_stage="primary", places=places
        )

    assert refusal() is None and refusal(places=3, unallocated=3) is None
    assert refusal(status="pending") == "demand_not_approved"
    assert refusal(status="rejected") == "demand_not_approved"
    assert refusal(year="2020-2021") == "demand_year_mismatch"
    assert refusal(stage="junior") == "stage_mismatch"
    assert refusal(places=5, unallocated=4) == "demand_exceeded"
    assert refusal(places=1, unallocated=0) == "demand_exceeded"


def test_rewards_wait_for_the_last_stay_of_the_year() -> None:
    last = date(2020, 7, 10)
    assert rules.reward_refusal(today=date(2020, 7, 10), last_stay_ends=last) == "year_not_over"
    assert rules.reward_refusal(today=date(2020, 7, 11), last_stay_ends=last) is None
    assert rules.reward_refusal(today=date(2019, 7, 1), last_stay_ends=None) is None
