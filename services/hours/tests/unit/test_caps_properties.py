"""Property tests: whatever the facts and their order, no cap group is ever exceeded, and the credited
total of every group (and of every category) is the same for every arrival order."""

from __future__ import annotations

import random
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from hours.domain.crediting import Grant, replay
from hours.domain.rules import default_rules
from hours.domain.units import to_units
from jijiao_contracts.enums import HourCategory

RULES = default_rules(2026)
FACT = st.sampled_from(
    [(name, category) for name, source in RULES.sources.items() for category in source.categories]
).flatmap(lambda pair: st.tuples(st.just(pair[0]), st.just(pair[1]), st.integers(0, to_units(60))))


def group_totals(facts: list[tuple[str, HourCategory, int]], grants: list[Grant]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for (source, category, _), grant in zip(facts, grants, strict=True):
        totals[grant.group or f"uncapped:{source}"] += grant.credited
        totals[f"category:{category.value}"] += grant.credited
    return dict(totals)


@settings(max_examples=300, deadline=None)
@given(st.lists(FACT, max_size=40))
def test_no_cap_group_is_ever_exceeded(facts: list[tuple[str, HourCategory, int]]) -> None:
    grants = replay(RULES, facts)
    for group, total in group_totals(facts, grants).items():
        if group in RULES.cap_groups:
            assert total <= to_units(RULES.cap_groups[group].cap)
    for (_, _, requested), grant in zip(facts, grants, strict=True):
        assert 0 <= grant.credited <= requested
        assert grant.credited + grant.not_credited == requested


@settings(max_examples=300, deadline=None)
@given(st.lists(FACT, max_size=40), st.randoms(use_true_random=False))
def test_credited_totals_do_not_depend_on_arrival_order(
    facts: list[tuple[str, HourCategory, int]], rnd: random.Random
) -> None:
    shuffled = list(facts)
    rnd.shuffle(shuffled)
    assert group_totals(facts, replay(RULES, facts)) == group_totals(shuffled, replay(RULES, shuffled))
