"""Every yearly cap of DOMAIN.md §6 and its boundary: exactly at the cap, and one hour above."""

from __future__ import annotations

import pytest

from hours.domain.crediting import RuleViolation, allocate, replay, xuexi_hours
from hours.domain.rules import YearRules, default_rules
from hours.domain.units import to_units
from jijiao_contracts.enums import HourCategory

P, E, PUB = HourCategory.PROFESSIONAL, HourCategory.ELECTIVE, HourCategory.PUBLIC
RULES = default_rules(2026)

CAPPED = [
    ("teaching_research", P, 10),
    ("studio", P, 42),
    ("degree_related", P, 28),
    ("degree_unrelated", E, 18),
    ("vocational_qualification", P, 20),
    ("industry_training", P, 42),
    ("school_based", E, 18),
    ("xuexi_qiangguo", E, 8),
    ("points_redemption", P, 10),
    ("points_redemption", E, 10),
]


@pytest.mark.parametrize(("source", "category", "cap"), CAPPED)
def test_exactly_at_the_cap_is_credited_in_full(source: str, category: HourCategory, cap: int) -> None:
    grant = allocate(RULES, source, category, to_units(cap), used=0)
    assert grant.credited == to_units(cap)
    assert grant.not_credited == 0 and grant.reason is None


@pytest.mark.parametrize(("source", "category", "cap"), CAPPED)
def test_one_hour_above_the_cap_is_recorded_as_not_credited(source: str, category: HourCategory, cap: int) -> None:
    grant = allocate(RULES, source, category, to_units(cap + 1), used=0)
    assert grant.credited == to_units(cap)
    assert grant.not_credited == to_units(1)
    assert grant.reason == f"yearly_cap:{RULES.cap_group(source, category)}"
    assert grant.reason_text and "年度上限" in grant.reason_text


@pytest.mark.parametrize(("source", "category", "cap"), CAPPED)
def test_cap_is_per_year_sum_of_facts(source: str, category: HourCategory, cap: int) -> None:
    grants = replay(RULES, [(source, category, to_units(cap - 1)), (source, category, to_units(2))])
    assert [g.credited for g in grants] == [to_units(cap - 1), to_units(1)]
    assert grants[1].not_credited == to_units(1)
    after = replay(RULES, [(source, category, to_units(cap)), (source, category, to_units(1))])
    assert after[1].credited == 0 and after[1].not_credited == to_units(1)


@pytest.mark.parametrize(
    "source", ["platform_course", "training_class", "national_provincial_training", "online_trainer"]
)
def test_uncapped_sources_credit_everything(source: str) -> None:
    grants = replay(RULES, [(source, P, to_units(100))] * 3)
    assert sum(g.credited for g in grants) == to_units(300)


def test_mental_health_certificate_credits_what_is_declared() -> None:
    assert allocate(RULES, "mental_health_certificate", P, to_units(60), 0).credited == to_units(60)


def test_research_output_main_authors_28_per_item_others_14_shared_28() -> None:
    main = allocate(RULES, "research_output_main", P, to_units(28), 0)
    assert main.credited == to_units(28) and main.reason is None
    main_above = allocate(RULES, "research_output_main", P, to_units(29), 0)
    assert main_above.credited == to_units(28) and main_above.reason == "item_cap:research_output_main"
    other = allocate(RULES, "research_output_other", P, to_units(14), 0)
    assert other.credited == to_units(14) and other.reason is None
    other_above = allocate(RULES, "research_output_other", P, to_units(15), 0)
    assert other_above.credited == to_units(14) and other_above.reason == "item_cap:research_output_other"
    shared = replay(
        RULES,
        [
            ("research_output_other", P, to_units(14)),
            ("research_output_other", P, to_units(14)),
            ("research_output_main", P, to_units(28)),
        ],
    )
    assert [g.credited for g in shared] == [to_units(14), to_units(14), 0]
    assert shared[2].reason == "yearly_cap:research_output"


def test_platform_course_credits_in_every_category_and_others_only_in_theirs() -> None:
    for category in HourCategory:
        assert allocate(RULES, "platform_course", category, 100, 0).credited == 100
    with pytest.raises(RuleViolation) as error:
        allocate(RULES, "school_based", PUB, 100, 0)
    assert error.value.code == "category_not_allowed"
    with pytest.raises(RuleViolation) as unknown:
        allocate(RULES, "astrology", P, 100, 0)
    assert unknown.value.code == "unknown_source"


def test_xuexi_qiangguo_every_full_300_points_is_one_hour() -> None:
    assert xuexi_hours(RULES, 299) == (0, 299)
    assert xuexi_hours(RULES, 300) == (to_units(1), 0)
    assert xuexi_hours(RULES, 2400) == (to_units(8), 0)
    hours, _ = xuexi_hours(RULES, 2700)  # 9 hours of points, at most 8 credited
    assert allocate(RULES, "xuexi_qiangguo", E, hours, 0).credited == to_units(8)


def test_caps_are_data_a_year_can_change_them() -> None:
    rules = default_rules(2027)
    rules.cap_groups["school_based"].cap = 20
    assert allocate(rules, "school_based", E, to_units(20), 0).credited == to_units(20)
    assert allocate(RULES, "school_based", E, to_units(20), 0).credited == to_units(18)


def test_rules_reject_a_source_with_an_unknown_cap_group() -> None:
    data = default_rules(2026).model_dump()
    data["sources"]["studio"]["cap_group"] = "nope"
    with pytest.raises(ValueError):
        YearRules.model_validate(data)


def test_fractional_hours_compare_exactly() -> None:
    grants = replay(RULES, [("school_based", E, to_units(0.1))] * 180 + [("school_based", E, to_units(0.1))])
    assert sum(g.credited for g in grants) == to_units(18)
    assert grants[-1].credited == 0
