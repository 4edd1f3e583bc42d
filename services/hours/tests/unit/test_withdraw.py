"""Withdrawing a fact (a passed result corrected to failed): its hours go, the room it frees in a yearly
cap goes to the facts that cap cut, and the group ends where it would be had the fact never counted."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from hours.domain.crediting import FactShare, item_capped, replay, withdraw
from hours.domain.rules import default_rules
from hours.domain.units import to_units
from jijiao_contracts.enums import HourCategory

RULES = default_rules(2026)
ELECTIVE = HourCategory.ELECTIVE
PROFESSIONAL = HourCategory.PROFESSIONAL
FACT = st.sampled_from(
    [(name, category) for name, source in RULES.sources.items() for category in source.categories]
).flatmap(lambda pair: st.tuples(st.just(pair[0]), st.just(pair[1]), st.integers(0, to_units(40))))


def shares(facts: list[tuple[str, HourCategory, int]]) -> list[FactShare]:
    grants = replay(RULES, facts)
    return [
        FactShare(f"f{i}", source, category, requested, grant.credited, (i, f"f{i}"))
        for i, ((source, category, requested), grant) in enumerate(zip(facts, grants, strict=True))
    ]


def group_totals(facts: list[FactShare], deltas: dict[str, int] | None = None) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for fact in facts:
        totals[RULES.cap_group(fact.source, fact.category) or f"free:{fact.key}"] += fact.net + (deltas or {}).get(
            fact.key, 0
        )
    return dict(totals)


def expected_group_totals(facts: list[FactShare]) -> dict[str, int]:
    """min(cap, sum of item-capped requests) per group: what the group holds whatever the order."""
    totals: dict[str, int] = defaultdict(int)
    for fact in facts:
        group = RULES.cap_group(fact.source, fact.category)
        totals[group or f"free:{fact.key}"] += item_capped(RULES, fact.source, fact.requested)[0]
    return {g: min(t, to_units(RULES.cap_groups[g].cap)) if g in RULES.cap_groups else t for g, t in totals.items()}


def test_withdrawing_a_full_fact_refills_the_fact_the_cap_cut() -> None:
    facts = shares([("school_based", ELECTIVE, to_units(12)), ("school_based", ELECTIVE, to_units(12))])
    assert [f.net for f in facts] == [to_units(12), to_units(6)]  # cap 18
    assert withdraw(RULES, facts, "f0") == {"f0": -to_units(12), "f1": to_units(6)}


def test_withdrawing_a_cut_fact_gives_nothing_to_anyone_else() -> None:
    facts = shares([("school_based", ELECTIVE, to_units(12)), ("school_based", ELECTIVE, to_units(12))])
    assert withdraw(RULES, facts, "f1") == {"f1": -to_units(6)}


def test_refills_go_oldest_first_and_stop_at_the_item_cap() -> None:
    facts = shares(
        [
            ("research_output_main", PROFESSIONAL, to_units(20)),
            ("research_output_other", PROFESSIONAL, to_units(20)),  # item cap 14; 8 fit the cap of 28
            ("research_output_main", PROFESSIONAL, to_units(5)),  # nothing fits
        ]
    )
    assert [f.net for f in facts] == [to_units(20), to_units(8), 0]
    deltas = withdraw(RULES, facts, "f0")
    assert deltas == {"f0": -to_units(20), "f1": to_units(6), "f2": to_units(5)}  # 14 is the item cap of f1


def test_an_uncapped_fact_is_only_taken_out() -> None:
    facts = shares([("platform_course", PROFESSIONAL, to_units(24)), ("platform_course", PROFESSIONAL, to_units(8))])
    assert withdraw(RULES, facts, "f0") == {"f0": -to_units(24)}


@settings(max_examples=400, deadline=None)
@given(st.lists(FACT, min_size=1, max_size=30), st.data())
def test_after_a_withdrawal_every_group_holds_what_the_remaining_facts_allow(
    facts: list[tuple[str, HourCategory, int]], data: st.DataObject
) -> None:
    before = shares(facts)
    withdrawn = data.draw(st.sampled_from([f.key for f in before]))
    deltas = withdraw(RULES, before, withdrawn)
    remaining = [f for f in before if f.key != withdrawn]
    after = group_totals(remaining, deltas)
    expected = expected_group_totals(remaining)
    assert {g: t for g, t in after.items() if t or expected.get(g)} == {g: t for g, t in expected.items() if t}
    assert -deltas.get(withdrawn, 0) == next(f.net for f in before if f.key == withdrawn)
    for fact in remaining:  # nobody loses, nobody gets past what it asked for
        delta = deltas.get(fact.key, 0)
        assert delta >= 0 and fact.net + delta <= item_capped(RULES, fact.source, fact.requested)[0]
