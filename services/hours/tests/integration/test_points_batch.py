"""The consumer's batch path of the points bank against the single path, with hypothesis: for any facts
(with duplicates) in any order and any batching, each fact earns once, every item stays within its cap,
balances and per-item earnings equal the single path's, and every award has exactly one PointsAwarded
event carrying an exact balance; also racing single awards, and on accounts written before facts were
stored as strings."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hours.adapters.points_accounts import new_account
from hours.bootstrap import Container
from hours.service_layer.crediting import key_hash
from hours.service_layer.points import BatchAwards
from jijiao_contracts.events.hours import PointsAwarded
from jijiao_kit.clock import MovableClock

RULES = ["shared_resource", "discussion_topic", "active_workshop_host"]  # caps 100, 100, none
FACTS = st.lists(st.tuples(st.sampled_from(range(len(RULES))), st.integers(0, 7)), min_size=1, max_size=30)
IN_2026 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
counter = itertools.count()


def fact(ce: str, rule: str, reference: str) -> dict[str, Any]:
    return {
        "ce_number": ce,
        "year": 2026,
        "rule": rule,
        "reference": reference,
        "source": f"studio:{rule}:{reference}",
        "occurred_at": IN_2026,
    }


def facts_for(ce: str, spec: list[tuple[int, int]]) -> list[dict[str, Any]]:
    return [fact(ce, RULES[k], f"ref{ref}") for k, ref in spec]


async def state(container: Container, ce: str) -> tuple[int, dict[str, int], list[int]]:
    """Balance, earnings per item, and the balances carried by the account's PointsAwarded events."""
    doc = await container.infra.db["points_accounts"].find_one({"_id": f"{ce}:2026"})
    assert doc is not None
    bodies = [json.loads(entry["body"]) for entry in (doc.get("outbox") or {}).values()]
    balances = sorted(body["payload"]["balance"] for body in bodies if body["type"] == PointsAwarded.EVENT_TYPE)
    return int(doc["balance"]), {k: int(v) for k, v in doc["by_rule"].items() if v}, balances


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=FACTS, seed=st.integers(0, 10_000), batch=st.integers(1, 12))
async def test_batch_awards_match_the_single_path_in_any_order_and_batching(
    clock: MovableClock, container: Container, spec: list[tuple[int, int]], seed: int, batch: int
) -> None:
    clock.set(IN_2026)
    ce_single, ce_batch = f"q{next(counter)}s", f"q{next(counter)}b"
    for item in facts_for(ce_single, spec):
        await container.points.award(**item)
    batched = facts_for(ce_batch, spec)
    random.Random(seed).shuffle(batched)
    awards = BatchAwards(container.points)
    for start in range(0, len(batched), batch):
        await awards.award_many(batched[start : start + batch] * 2)  # duplicates inside a batch too
    await awards.award_many(batched)  # and a full redelivery
    distinct = {(k, ref) for k, ref in spec}
    caps = {"shared_resource": 100, "discussion_topic": 100}
    expected = {}
    for rule, points in (("shared_resource", 20), ("discussion_topic", 10), ("active_workshop_host", 100)):
        earned = points * sum(1 for k, _ in distinct if RULES[k] == rule)
        if earned:
            expected[rule] = min(earned, caps.get(rule, earned))
    single, batched_state = await state(container, ce_single), await state(container, ce_batch)
    assert single[:2] == batched_state[:2] == (sum(expected.values()), expected)
    for balance, _, event_balances in (single, batched_state):
        assert len(event_balances) == len(distinct)  # one event per fact, none lost, none twice
        assert event_balances[-1] == balance
    view = await container.points.account(ce_batch, 2026)
    awards_shown = [entry for entry in view["entries"] if entry["type"] == "award"]
    assert len(awards_shown) == len(distinct)
    assert sum(entry["points"] for entry in awards_shown) == view["balance"]
    assert all(entry["capped"] == entry["requested"] - entry["points"] for entry in awards_shown)
    assert all(entry["label"] and entry["at"] == IN_2026 for entry in awards_shown)


async def test_batch_awards_racing_single_awards_count_each_fact_once(
    clock: MovableClock, container: Container
) -> None:
    clock.set(IN_2026)
    ce = f"qrace{next(counter)}"
    items = [fact(ce, "active_workshop_host", f"w{i}") for i in range(90)] + [
        fact(ce, "shared_resource", f"s{i}") for i in range(10)
    ]
    random.Random(7).shuffle(items)
    awards = BatchAwards(container.points)
    batches = [awards.award_many(items[i : i + 15]) for i in range(0, 60, 15)]
    singles = [container.points.award(**item) for item in items[45:]]  # overlaps the last batch
    await asyncio.gather(*batches, *singles)
    balance, by_rule, event_balances = await state(container, ce)
    assert by_rule == {"active_workshop_host": 9000, "shared_resource": 100}
    assert balance == 9100
    assert len(event_balances) == 100 and event_balances[-1] == 9100
    assert len(set(event_balances)) == 95  # every award that earned points (90 + 5 below the cap) has its own


async def test_accounts_with_facts_as_sub_documents_keep_working(clock: MovableClock, container: Container) -> None:
    clock.set(IN_2026)
    ce = f"qold{next(counter)}"
    account = new_account(f"{ce}:2026", ce, 2026)
    old_fact = {
        "rule": "shared_resource",
        "label": "共享资源",
        "reference": "old",
        "source": "studio:old",
        "requested": 20,
        "points": 20,
        "capped": 0,
        "reason": None,
        "at": datetime(2026, 3, 1, tzinfo=UTC),
    }
    account.update(
        version=1,
        earned=20,
        balance=20,
        by_rule={"shared_resource": 20},
        facts={key_hash("shared_resource\x1fold"): old_fact},
    )
    await container.infra.db["points_accounts"].insert_one(account)
    awards = BatchAwards(container.points)
    await awards.award_many([fact(ce, "shared_resource", "old"), fact(ce, "shared_resource", "new")])
    assert await container.points.award(**fact(ce, "shared_resource", "old")) is None
    view = await container.points.account(ce, 2026)
    assert view["balance"] == 40
    shown = sorted((entry["reference"], entry["points"], entry["label"]) for entry in view["entries"])
    assert shown == [("new", 20, "共享资源"), ("old", 20, "共享资源")]
