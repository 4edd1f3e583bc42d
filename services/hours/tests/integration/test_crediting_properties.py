"""The store-backed crediting (single path and the consumer's batch path) against the reference model,
with hypothesis: for any facts in any order and any batching, no cap group exceeds its cap, the
credited totals equal the model's (so they are independent of arrival order), and nothing is lost or
counted twice; also with the batch path racing single registrations."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections import defaultdict
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hours.bootstrap import Container
from hours.domain.crediting import replay
from hours.domain.rules import default_rules
from hours.domain.units import to_units
from hours.service_layer.crediting import BatchCrediting, HourFact
from jijiao_contracts.enums import HourCategory

RULES = default_rules(2026)
KINDS = [
    ("school_based", HourCategory.ELECTIVE),
    ("teaching_research", HourCategory.PROFESSIONAL),
    ("research_output_main", HourCategory.PROFESSIONAL),
    ("research_output_other", HourCategory.PROFESSIONAL),
    ("degree_unrelated", HourCategory.ELECTIVE),
    ("platform_course", HourCategory.PUBLIC),
]
FACTS = st.lists(st.tuples(st.sampled_from(range(len(KINDS))), st.integers(1, 3000)), min_size=1, max_size=25)
counter = itertools.count()


def facts_for(ce: str, spec: list[tuple[int, int]]) -> list[HourFact]:
    return [
        HourFact(
            source_key=f"prop:{ce}:{i}",
            ce_number=ce,
            year=2026,
            source=KINDS[k][0],
            category=KINDS[k][1],
            hours=units / 100,
            reference={"kind": "test"},
            registered_by="test",
        )
        for i, (k, units) in enumerate(spec)
    ]


def model_totals(spec: list[tuple[int, int]]) -> dict[str, int]:
    grants = replay(RULES, [(KINDS[k][0], KINDS[k][1], units) for k, units in spec])
    totals: dict[str, int] = defaultdict(int)
    for grant, (k, _) in zip(grants, spec, strict=True):
        totals[grant.group or KINDS[k][0]] += grant.credited
    return dict(totals)


async def stored_totals(container: Container, ce: str) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    async for entry in container.infra.db["ledger"].find({"ce_number": ce}):
        totals[entry["cap_group"] or entry["source"]] += to_units(entry["credited"])
    return dict(totals)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=FACTS, seed=st.integers(0, 10_000), batch=st.integers(1, 10))
async def test_store_crediting_matches_the_model_in_any_order_and_batching(
    container: Container, spec: list[tuple[int, int]], seed: int, batch: int
) -> None:
    expected = model_totals(spec)
    for group, total in expected.items():
        if group in RULES.cap_groups:
            assert total <= to_units(RULES.cap_groups[group].cap)
    ce_single, ce_batch = f"p{next(counter)}s", f"p{next(counter)}b"
    single = facts_for(ce_single, spec)
    random.Random(seed).shuffle(single)
    for fact in single:
        await container.bank.credit(fact)
    batched = facts_for(ce_batch, spec)
    random.Random(seed + 1).shuffle(batched)
    crediting = BatchCrediting(container.bank)
    for start in range(0, len(batched), batch):
        await crediting.credit_many(batched[start : start + batch] * 2)  # duplicates inside a batch too
    await crediting.credit_many(batched)  # and a full redelivery
    assert await stored_totals(container, ce_single) == expected
    assert await stored_totals(container, ce_batch) == expected
    assert await container.infra.db["ledger"].count_documents({"ce_number": ce_batch}) == len(spec)


async def test_batch_path_racing_single_registrations_never_exceeds_the_cap(container: Container) -> None:
    ce = f"race{uuid.uuid4().hex[:6]}"
    facts = [
        HourFact(
            source_key=f"race:{i}",
            ce_number=ce,
            year=2026,
            source="school_based",
            category=HourCategory.ELECTIVE,
            hours=1,
            reference={},
            registered_by="t",
        )
        for i in range(120)
    ]
    crediting = BatchCrediting(container.bank)
    batches = [crediting.credit_many(facts[i : i + 20]) for i in range(0, 60, 20)]
    singles = [container.bank.credit(fact) for fact in facts[60:]]
    results: list[Any] = await asyncio.gather(*batches, *singles)
    assert len(results) == 63
    totals = await stored_totals(container, ce)
    assert totals == {"school_based": to_units(18)}
    assert await container.infra.db["ledger"].count_documents({"ce_number": ce}) == 120
    year = await container.infra.db["teacher_years"].find_one({"_id": f"{ce}:2026"})
    assert year is not None and year["used"]["school_based"] == to_units(18) and year["pending_count"] == 0
