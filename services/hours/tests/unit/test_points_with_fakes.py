"""The points bank's awards (service_layer/points.py) against an in-memory account repository: one award
per fact, per-item caps, exact balances under parallel awards (compare-and-set on ``version``), and the
batch form's one bulk write."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from hours.adapters import points_facts
from hours.adapters.points_accounts import NewFacts, PointsAccountStore, account_id_of, new_account
from hours.domain.rules import YearRules, default_rules
from hours.service_layer.crediting import HoursBank
from hours.service_layer.points import BatchAwards, PointsBank
from jijiao_kit.clock import FixedClock

Doc = dict[str, Any]
IN_2026 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


class FakeRules:
    async def for_year(self, year: int) -> YearRules:
        return default_rules(year)


class FakeAccounts(PointsAccountStore):
    def __init__(self) -> None:
        self.docs: dict[str, Doc] = {}
        self.calls: dict[str, int] = {}

    async def _call(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1
        await asyncio.sleep(0)  # parallel use cases interleave between read and write

    def _light(self, doc: Doc) -> Doc:
        return copy.deepcopy({k: v for k, v in doc.items() if k not in ("outbox", "facts", "redemptions")})

    async def load(self, ce_number: str, year: int) -> Doc:
        await self._call("load")
        account_id = account_id_of(ce_number, year)
        return self._light(self.docs.setdefault(account_id, new_account(account_id, ce_number, year)))

    async def load_many(self, wanted: Mapping[str, tuple[str, int]]) -> dict[str, Doc]:
        await self._call("load_many")
        for account_id, (ce_number, year) in wanted.items():
            self.docs.setdefault(account_id, new_account(account_id, ce_number, year))
        return {account_id: copy.deepcopy(self.docs[account_id]) for account_id in wanted}

    def _apply(self, change: NewFacts) -> bool:
        doc = self.docs.get(change.account_id)
        if doc is None or doc["version"] != change.version:
            return False
        if change.only_if_new is not None and change.only_if_new in doc["facts"]:
            return False
        doc["version"] += 1
        for rule, points in change.by_rule.items():
            doc["by_rule"][rule] = doc["by_rule"].get(rule, 0) + points
        doc["earned"] += change.points
        doc["balance"] += change.points
        doc["facts"].update({key: points_facts.encode(fact) for key, fact in change.facts.items()})
        doc["outbox"].update({event["event_id"]: event for event in change.events})
        return True

    async def add_facts(self, change: NewFacts) -> bool:
        await self._call("add_facts")
        return self._apply(change)

    async def add_facts_many(self, changes: Sequence[NewFacts]) -> int:
        await self._call("add_facts_many")
        return sum(self._apply(change) for change in changes)

    async def has_fact(self, account_id: str, key: str) -> bool:
        return key in self.docs.get(account_id, {}).get("facts", {})

    async def fact_keys(self, account_ids: Sequence[str]) -> dict[str, set[str]]:
        return {
            account_id: set(self.docs[account_id]["facts"]) for account_id in account_ids if account_id in self.docs
        }

    async def get_light(self, account_id: str) -> Doc | None:
        doc = self.docs.get(account_id)
        return self._light(doc) if doc else None

    async def view(self, ce_number: str, year: int) -> Doc | None:
        doc = self.docs.get(account_id_of(ce_number, year))
        return copy.deepcopy({k: v for k, v in doc.items() if k != "outbox"}) if doc else None

    async def redeem(
        self, account_id: str, version: int, redemption: Doc, category: str, events: Sequence[Doc]
    ) -> bool:
        raise NotImplementedError

    async def open_before(self, year: int) -> list[str]:
        raise NotImplementedError

    async def close(self, account_id: str, version: int, expired: int, at: datetime, events: Sequence[Doc]) -> bool:
        raise NotImplementedError

    async def to_remind(self, year: int, min_balance: int, *, skip: int, limit: int) -> list[Doc]:
        raise NotImplementedError

    async def mark_reminded_many(self, reminders: Sequence[tuple[str, int, int, Sequence[Doc]]]) -> int:
        raise NotImplementedError


def bank(accounts: FakeAccounts, now: datetime = IN_2026) -> PointsBank:
    return PointsBank(accounts, FakeRules(), cast(HoursBank, None), FixedClock(now))  # awards credit no hours


def events(accounts: FakeAccounts, ce: str = "t1", year: int = 2026) -> list[Doc]:
    outbox = accounts.docs[account_id_of(ce, year)]["outbox"].values()
    return [json.loads(entry["body"])["payload"] for entry in outbox]


async def test_one_award_per_fact_with_its_event() -> None:
    accounts = FakeAccounts()
    points = bank(accounts)
    fact: Doc = {"ce_number": "t1", "year": 2026, "rule": "shared_resource", "reference": "r1", "source": "test"}
    first = await points.award(**fact)
    assert first is not None and first["points"] == 20
    assert await points.award(**fact) is None
    account = await points.account("t1", 2026)
    assert account["balance"] == 20 and len(account["entries"]) == 1
    assert [(e["rule"], e["points"], e["balance"]) for e in events(accounts)] == [("shared_resource", 20, 20)]


async def test_the_item_cap_and_parallel_awards_keep_the_balance_exact() -> None:
    accounts = FakeAccounts()
    points = bank(accounts)
    awards = [
        points.award(ce_number="t1", year=2026, rule="shared_resource", reference=f"r{i}", source="test")
        for i in range(8)  # 20 each, capped at 100 a year
    ] + [
        points.award(ce_number="t1", year=2026, rule="active_workshop_host", reference=f"w{i}", source="test")
        for i in range(10)  # 100 each, no cap
    ]
    await asyncio.gather(*awards)
    account = await points.account("t1", 2026)
    assert account["balance"] == 100 + 1000
    running = 0
    for event in events(accounts):  # in write order: every event carries the balance after its award
        running += event["points"]
        assert event["balance"] == running
    assert running == 1100 and len(events(accounts)) == 18


async def test_an_ended_year_earns_nothing() -> None:
    accounts = FakeAccounts()
    late = bank(accounts, now=datetime(2027, 3, 1, tzinfo=UTC))
    fact = await late.award(ce_number="t1", year=2026, rule="shared_resource", reference="r1", source="test")
    assert fact is not None and (fact["points"], fact["reason"]) == (0, "expired")


async def test_a_batch_writes_each_account_once() -> None:
    accounts = FakeAccounts()
    points = bank(accounts)
    facts = [
        {"ce_number": ce, "year": 2026, "rule": "shared_resource", "reference": f"r{i}", "source": "studio:f"}
        for ce in ("t1", "t2", "t3")
        for i in range(7)
    ]
    await BatchAwards(points).award_many(facts + facts[:4])  # with redeliveries
    assert accounts.calls == {"load_many": 1, "add_facts_many": 1}  # no write per event
    assert [(await points.account(ce, 2026))["balance"] for ce in ("t1", "t2", "t3")] == [100, 100, 100]
    await BatchAwards(points).award_many(facts)  # a redelivered batch changes nothing
    assert (await points.account("t1", 2026))["balance"] == 100
    assert len(events(accounts, "t1")) == 7
