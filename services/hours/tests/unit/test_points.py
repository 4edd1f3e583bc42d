"""Points rules of DOMAIN.md §7, redemption limits and expiry at the natural-year boundary."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hours.domain.points import UnknownRule, award, check_redemption, is_expired, natural_year
from hours.domain.rules import default_rules
from jijiao_contracts.enums import HourCategory

RULES = default_rules(2026)
CAPPED = [
    "shared_resource",
    "discussion_topic",
    "workshop_founded",
    "activity_segment_created",
    "excellent_resource",
    "popular_topic",
]


@pytest.mark.parametrize("rule", CAPPED)
def test_capped_items_stop_exactly_at_100(rule: str) -> None:
    spec = RULES.points_rules[rule]
    at_cap = award(RULES, rule, 100 - spec.points)
    assert at_cap.points == spec.points and at_cap.capped == 0
    over = award(RULES, rule, 100)
    assert over.points == 0 and over.capped == spec.points and over.reason == f"item_cap:{rule}"


def test_partial_award_at_the_cap() -> None:
    assert award(RULES, "workshop_founded", 60).points == 40


@pytest.mark.parametrize(
    ("rule", "points"),
    [
        ("activity_participation", 10),
        ("assignment_recommended", 20),
        ("active_workshop_host", 100),
        ("active_workshop_participant", 20),
        ("workshop_featured_host", 500),
        ("workshop_featured_participant", 100),
    ],
)
def test_uncapped_rewards(rule: str, points: int) -> None:
    assert award(RULES, rule, 10_000).points == points


def test_unknown_rule() -> None:
    with pytest.raises(UnknownRule):
        award(RULES, "nope", 0)


def test_redemption_whole_hours_100_points_each_at_most_10_per_category() -> None:
    P = HourCategory.PROFESSIONAL
    assert check_redemption(RULES, P, 10, 1000, 0).ok
    assert check_redemption(RULES, P, 1, 100, 9).ok
    assert check_redemption(RULES, P, 1, 1000, 10).code == "redemption_cap"
    assert check_redemption(RULES, P, 2, 199, 0).code == "insufficient_points"
    assert check_redemption(RULES, HourCategory.PUBLIC, 1, 1000, 0).code == "category_not_redeemable"


def test_points_expire_at_the_end_of_the_natural_year_in_china() -> None:
    last_second = datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)  # 23:59:59 in Beijing
    first_second = datetime(2026, 12, 31, 16, 0, 0, tzinfo=UTC)  # 00:00 on 1 Jan 2027 in Beijing
    assert natural_year(last_second) == 2026 and not is_expired(2026, last_second)
    assert natural_year(first_second) == 2027 and is_expired(2026, first_second)
    assert not is_expired(2027, first_second)
    assert is_expired(2026, datetime(2027, 1, 1, 0, 0))  # naive is UTC
