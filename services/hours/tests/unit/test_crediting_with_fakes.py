"""The crediting path (service_layer/crediting.py) against in-memory repositories: caps hold under
parallel facts, a fact is credited once per source key, every ledger entry is written with its event,
the batch form writes each teacher-year once, and a reservation left by a crash is completed."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from hours.adapters.ledger import LedgerStore
from hours.adapters.teacher_years import TeacherYearStore, YearWrite, new_year
from hours.domain.rules import YearRules, default_rules
from hours.service_layer.crediting import BatchCrediting, HourFact, HoursBank, key_hash
from jijiao_contracts.enums import HourCategory
from jijiao_kit.errors import InvalidInput

Doc = dict[str, Any]
ELECTIVE = HourCategory.ELECTIVE


class FakeRules:
    async def for_year(self, year: int) -> YearRules:
        return default_rules(year)


def _holds(doc: Doc, change: YearWrite) -> bool:
    """The store's filter semantics of a ``YearWrite`` (adapters/teacher_years.as_update)."""
    grants = doc.get("grants") or {}
    used = doc.get("used") or {}
    serial = doc.get("serial") or {}
    results = doc.get("results") or {}
    return (
        not any(key in grants for key in change.no_grants)
        and all((key in grants) == present for key, present in change.grants_present.items())
        and all(group in used and used[group] <= most for group, most in change.used_at_most.items())
        and all(used.get(group) == value for group, value in change.used_is.items())
        and all(serial.get(group) == value for group, value in change.serial_is.items())
        and not any(result_id in results for result_id in change.results_unapplied)
        and all((results.get(r) or {}).get("rev") == rev for r, rev in change.result_rev.items())
    )


def _apply(doc: Doc, change: YearWrite) -> None:
    doc.setdefault("grants", {}).update(change.grants)
    doc.setdefault("pending", {}).update(copy.deepcopy(dict(change.pending)))
    doc["pending_count"] = doc.get("pending_count", 0) + len(change.pending)
    for group, units in change.add_used.items():
        doc.setdefault("used", {})[group] = doc.get("used", {}).get(group, 0) + units
    for group, n in change.bump_serial.items():
        doc.setdefault("serial", {})[group] = doc.get("serial", {}).get(group, 0) + n
    doc.setdefault("results", {}).update(change.results)
    doc.setdefault("withdrawn", {}).update(dict.fromkeys(change.withdrawn, True))


class FakeTeacherYears(TeacherYearStore):
    """Each call yields to the event loop first, so parallel use cases interleave between read and write."""

    def __init__(self) -> None:
        self.docs: dict[str, Doc] = {}
        self.calls: dict[str, int] = {}

    async def _call(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1
        await asyncio.sleep(0)

    async def get(self, year_id: str) -> Doc | None:
        await self._call("get")
        doc = self.docs.get(year_id)
        return copy.deepcopy(doc) if doc is not None else None

    async def ensure(self, ce_number: str, year: int, groups: Sequence[str]) -> str:
        await self._call("ensure")
        doc = new_year(ce_number, year, groups)
        self.docs.setdefault(doc["_id"], doc)
        return str(doc["_id"])

    async def load_many(self, wanted: Mapping[str, tuple[str, int, Sequence[str]]]) -> dict[str, Doc]:
        await self._call("load_many")
        for year_id, (ce_number, year, groups) in wanted.items():
            self.docs.setdefault(year_id, new_year(ce_number, year, groups))
        return {year_id: copy.deepcopy(self.docs[year_id]) for year_id in wanted}

    async def write(self, change: YearWrite) -> bool:
        await self._call("write")
        doc = self.docs.get(change.year_id)
        if doc is None or not _holds(doc, change):
            return False
        _apply(doc, change)
        return True

    async def write_many(self, changes: Sequence[YearWrite]) -> int:
        await self._call("write_many")
        written = 0
        for change in changes:
            doc = self.docs.get(change.year_id)
            if doc is not None and _holds(doc, change):
                _apply(doc, change)
                written += 1
        return written

    async def reservations(self, year_ids: Sequence[str]) -> dict[str, Doc]:
        await self._call("reservations")
        return {year_id: copy.deepcopy(self.docs[year_id]) for year_id in year_ids if year_id in self.docs}

    async def clear_pending(self, year_id: str, keys: Sequence[str]) -> None:
        await self.clear_pending_many([(year_id, keys)])

    async def clear_pending_many(self, done: Sequence[tuple[str, Sequence[str]]]) -> None:
        await self._call("clear_pending")
        for year_id, keys in done:
            pending = self.docs[year_id].get("pending") or {}
            if all(key in pending for key in keys):  # only those still there (as the store's filter)
                for key in keys:
                    del pending[key]
                self.docs[year_id]["pending_count"] -= len(keys)

    async def with_pending(self) -> list[tuple[str, dict[str, Doc]]]:
        await self._call("with_pending")
        return [
            (year_id, copy.deepcopy(doc["pending"])) for year_id, doc in self.docs.items() if doc["pending_count"] > 0
        ]


class FakeLedger(LedgerStore):
    def __init__(self) -> None:
        self.entries: dict[str, Doc] = {}
        self.fail_next_add = False

    async def get(self, key: str) -> Doc | None:
        await asyncio.sleep(0)
        entry = self.entries.get(key)
        return {k: v for k, v in entry.items() if k != "outbox"} if entry else None

    async def existing(self, keys: Sequence[str]) -> set[str]:
        return {key for key in keys if key in self.entries}

    async def add(self, entry: Doc, events: Sequence[Doc]) -> None:
        await self.add_many([(entry, events)])

    async def add_many(self, entries: Sequence[tuple[Doc, Sequence[Doc]]]) -> None:
        await asyncio.sleep(0)
        if self.fail_next_add:
            self.fail_next_add = False
            raise ConnectionError("the store went away")
        for entry, events in entries:
            self.entries.setdefault(entry["_id"], {**entry, "outbox": list(events)})

    async def of_teacher(self, ce_number: str, year_from: int, year_to: int) -> list[Doc]:
        return [
            {k: v for k, v in e.items() if k != "outbox"}
            for e in self.entries.values()
            if e["ce_number"] == ce_number and year_from <= e["year"] <= year_to
        ]


def school_based(ce: str, key: str, hours: float, *, year: int = 2026) -> HourFact:
    return HourFact(
        source_key=f"test:{key}",
        ce_number=ce,
        year=year,
        source="school_based",
        category=ELECTIVE,
        hours=hours,
        reference={"kind": "test", "id": key},
        registered_by="school:s1",
    )


@pytest.fixture
def repos() -> tuple[FakeTeacherYears, FakeLedger, HoursBank]:
    years, ledger = FakeTeacherYears(), FakeLedger()
    return years, ledger, HoursBank(years, ledger, FakeRules())


def credited(ledger: FakeLedger, ce: str) -> float:
    return sum(float(e["credited"]) for e in ledger.entries.values() if e["ce_number"] == ce)


async def test_a_fact_is_credited_once_with_its_event(repos: tuple[FakeTeacherYears, FakeLedger, HoursBank]) -> None:
    years, ledger, bank = repos
    entry, created = await bank.credit(school_based("t1", "a", 6))
    again, created_again = await bank.credit(school_based("t1", "a", 6))
    assert (created, created_again) == (True, False)
    assert entry["_id"] == again["_id"] == key_hash("test:a")
    assert list(ledger.entries) == [key_hash("test:a")]
    (event,) = ledger.entries[key_hash("test:a")]["outbox"]
    assert event["routing_key"].startswith("hours.hours_credited")
    assert json.loads(event["body"])["payload"]["credited"] == 6
    assert years.docs["t1:2026"]["used"]["school_based"] == 600  # hundredths of an hour
    assert years.docs["t1:2026"]["pending_count"] == 0 and years.docs["t1:2026"]["pending"] == {}


async def test_the_yearly_cap_cuts_the_fact_that_crosses_it(
    repos: tuple[FakeTeacherYears, FakeLedger, HoursBank],
) -> None:
    _, ledger, bank = repos
    await bank.credit(school_based("t1", "a", 12))
    entry, _ = await bank.credit(school_based("t1", "b", 10))
    assert (entry["credited"], entry["not_credited"]) == (6, 4)
    assert entry["reason"] == "yearly_cap:school_based"
    assert credited(ledger, "t1") == 18


async def test_parallel_facts_never_exceed_the_cap(repos: tuple[FakeTeacherYears, FakeLedger, HoursBank]) -> None:
    years, ledger, bank = repos
    facts = [school_based("t1", f"p{i}", 1.5) for i in range(30)]  # 45 hours against a cap of 18
    results = await asyncio.gather(*(bank.credit(fact) for fact in facts), *(bank.credit(fact) for fact in facts))
    assert sum(1 for _, created in results if created) == 30
    assert len(ledger.entries) == 30
    assert credited(ledger, "t1") == 18
    assert years.docs["t1:2026"]["used"]["school_based"] == 1800


async def test_a_refused_fact_leaves_no_trace(repos: tuple[FakeTeacherYears, FakeLedger, HoursBank]) -> None:
    years, ledger, bank = repos
    fact = school_based("t1", "x", 2)
    wrong = HourFact(**{**fact.__dict__, "category": HourCategory.PUBLIC})
    with pytest.raises(InvalidInput) as refused:
        await bank.credit(wrong)
    assert refused.value.code == "category_not_allowed"
    assert ledger.entries == {} and years.docs == {}


async def test_a_batch_writes_each_teacher_year_once_and_credits_each_fact_once(
    repos: tuple[FakeTeacherYears, FakeLedger, HoursBank],
) -> None:
    years, ledger, bank = repos
    facts = [school_based(ce, f"{ce}-{i}", 4) for ce in ("t1", "t2", "t3") for i in range(6)]  # 24 h each
    done = await BatchCrediting(bank).credit_many(facts + facts[:5])  # with redeliveries
    assert done == 18
    assert years.calls["write_many"] == 1 and "write" not in years.calls  # one bulk write, no write per event
    assert {ce: credited(ledger, ce) for ce in ("t1", "t2", "t3")} == {"t1": 18, "t2": 18, "t3": 18}
    assert all(len(e["outbox"]) == 1 for e in ledger.entries.values())
    assert await BatchCrediting(bank).credit_many(facts) == 0  # a redelivered batch changes nothing
    assert len(ledger.entries) == 18


async def test_a_batch_racing_single_credits_stays_within_the_cap(
    repos: tuple[FakeTeacherYears, FakeLedger, HoursBank],
) -> None:
    _, ledger, bank = repos
    facts = [school_based("t1", f"r{i}", 2) for i in range(20)]  # 40 hours against 18
    await asyncio.gather(BatchCrediting(bank).credit_many(facts[:12]), *(bank.credit(f) for f in facts[8:]))
    assert len(ledger.entries) == 20
    assert credited(ledger, "t1") == 18


async def test_a_reservation_left_by_a_crash_is_completed(
    repos: tuple[FakeTeacherYears, FakeLedger, HoursBank],
) -> None:
    years, ledger, bank = repos
    ledger.fail_next_add = True
    with pytest.raises(ConnectionError):
        await bank.credit(school_based("t1", "c", 5))
    assert years.docs["t1:2026"]["pending_count"] == 1 and ledger.entries == {}
    assert await bank.complete_pending() == 1
    assert credited(ledger, "t1") == 5 and years.docs["t1:2026"]["pending_count"] == 0
    entry, created = await bank.credit(school_based("t1", "c", 5))  # the retry finds the entry
    assert not created and entry["credited"] == 5
    assert len(ledger.entries) == 1
