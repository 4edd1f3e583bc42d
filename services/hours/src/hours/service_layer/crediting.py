"""The hours bank's one way in: credit a fact against the year's caps, exactly once per source key.

Two documents, no transaction, nothing lost:
1. The teacher-year document (``teacher_years``) reserves the hours: a conditional update that only
   matches while the fact's key has no grant yet and while the cap group's counter still has room (or
   still holds the value the grant was computed from). It records the grant and the full ledger entry
   as *pending* in the same write, so the cap can never be exceeded, even with parallel facts.
2. The ledger entry is inserted (unique on its source key) with its ``HoursCredited`` event in its
   outbox, then the pending copy is removed. If the process dies between 1 and 2, a retry of the same
   fact, or the worker's ``complete_pending`` job, writes the entry from the pending copy.

Every write that adds a fact to a cap group also raises ``serial.<group>``: the version a correction
(service_layer/corrections.py) compares, since the counter alone can stay the same (a zero grant, or a
withdrawal whose freed room is given to others in full).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from hours.adapters.ledger import LedgerStore
from hours.adapters.teacher_years import TeacherYearStore, YearWrite, year_id_of
from hours.domain.crediting import Grant, RuleViolation, allocate, check_source, item_capped
from hours.domain.rules import YearRules
from hours.domain.units import to_hours, to_units
from jijiao_contracts import Actor
from jijiao_contracts.enums import HourCategory
from jijiao_contracts.events.hours import PRODUCER, HoursAdjusted, HoursCredited
from jijiao_kit.errors import Conflict, InvalidInput
from jijiao_kit.outbox import outbox_entry

Doc = dict[str, Any]


def key_hash(source_key: str) -> str:
    return hashlib.sha256(source_key.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class HourFact:
    source_key: str  # what makes the fact unique: "result:<id>", "registration:<registrant>:<ref>", ...
    ce_number: str
    year: int
    source: str
    category: HourCategory
    hours: float
    reference: dict[str, Any]
    registered_by: str
    school_id: str | None = None
    district: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    # A course result's id: its first pass credits only while no newer registration of that result was
    # applied (``results.<id>`` in the teacher-year; see service_layer/corrections.py).
    result_id: str | None = None

    def unapplied(self) -> list[str]:
        """The results that must have no applied registration state (keeps a stale result from being
        credited)."""
        return [self.result_id] if self.result_id else []


def rule_error(exc: RuleViolation) -> InvalidInput:
    titles = {
        "unknown_source": "未知的学时来源",
        "category_not_allowed": "该来源不能登记此类别学时",
        "negative_hours": "学时不能为负数",
        "negative_points": "积分不能为负数",
    }
    return InvalidInput(str(exc), code=exc.code, title=titles.get(exc.code, "学时登记不符合规则"))


class RulesSource(Protocol):
    async def for_year(self, year: int) -> YearRules: ...


def reservation(year_id: str, kh: str, group: str | None, grant: Grant, entry: Doc) -> YearWrite:
    """The teacher-year change that grants one fact and holds its ledger entry as pending. Every change
    to a group's facts raises its serial: the version corrections compare."""
    return YearWrite(
        year_id,
        grants={kh: grant.credited},
        pending={kh: entry},
        add_used={group: grant.credited} if group is not None else {},
        bump_serial={group: 1} if group is not None else {},
    )


class HoursBank:
    def __init__(self, years: TeacherYearStore, ledger: LedgerStore, rules: RulesSource) -> None:
        self.years = years
        self.ledger = ledger
        self.rules = rules

    async def credit(self, fact: HourFact) -> tuple[Doc, bool]:
        """Returns the ledger entry and whether this call created it."""
        kh = key_hash(fact.source_key)
        existing = await self.ledger.get(kh)
        if existing is not None:
            return existing, False
        rules = await self.rules.for_year(fact.year)
        try:
            check_source(rules, fact.source, fact.category)
            if fact.hours < 0:
                raise RuleViolation("negative_hours", "Hours must not be negative.")
        except RuleViolation as exc:
            raise rule_error(exc) from exc
        requested = to_units(fact.hours)
        year_id = year_id_of(fact.ce_number, fact.year)
        group = rules.cap_group(fact.source, fact.category)
        amount, reason, reason_text = item_capped(rules, fact.source, requested)
        fast = Grant(group, requested, amount, reason, reason_text)
        entry = self.new_entry(kh, fact, fast)
        change = reservation(year_id, kh, group, fast, entry)
        change.no_grants = [kh]
        change.results_unapplied = fact.unapplied()
        if group is not None:
            change.used_at_most = {group: to_units(rules.cap_groups[group].cap) - amount}
        created = await self.years.write(change)
        if not created:
            reserved = await self._reserve_slowly(kh, fact, group, rules.all_groups())
            if reserved is None:  # a newer registration of this result was applied: nothing to credit
                return {"_id": kh, "source_key": fact.source_key, "stale": True}, False
            entry, created = reserved
        stored = await self.materialize(year_id, kh, entry)
        return stored, created

    async def ensure_year(self, ce_number: str, year: int) -> str:
        """The teacher-year document exists (created empty if not); returns its id."""
        groups = (await self.rules.for_year(year)).all_groups()
        return await self.years.ensure(ce_number, year, groups)

    async def _reserve_slowly(
        self, kh: str, fact: HourFact, group: str | None, groups: list[str]
    ) -> tuple[Doc, bool] | None:
        """Compare-and-set on the group's counter: read it, compute the grant, write only if unchanged.
        None: the fact is a result whose newer registration was applied already."""
        year_id = await self.ensure_year(fact.ce_number, fact.year)
        rules = await self.rules.for_year(fact.year)
        for _ in range(500):
            doc = await self.years.get(year_id) or {}
            if fact.result_id and fact.result_id in (doc.get("results") or {}):
                return None
            if kh in (doc.get("grants") or {}):
                pending = (doc.get("pending") or {}).get(kh)
                if pending is not None:
                    return pending, False
                stored = await self.ledger.get(kh)
                if stored is not None:
                    return stored, False
                continue  # being materialised right now
            used = (doc.get("used") or {}).get(group) if group else None
            grant = allocate(rules, fact.source, fact.category, to_units(fact.hours), used or 0)
            entry = self.new_entry(kh, fact, grant)
            change = reservation(year_id, kh, group, grant, entry)
            change.no_grants = [kh]
            change.results_unapplied = fact.unapplied()
            if group is not None:
                change.used_is = {group: used}
            if await self.years.write(change):
                return entry, True
        raise Conflict("Too much contention on this teacher's year.", code="busy", title="系统繁忙，请稍后重试")

    def new_entry(self, kh: str, fact: HourFact, grant: Grant) -> Doc:
        """The ledger entry of a fact's grant (held as pending until written)."""
        return {
            "_id": kh,
            "source_key": fact.source_key,
            "ce_number": fact.ce_number,
            "year": fact.year,
            "category": fact.category.value,
            "source": fact.source,
            "cap_group": grant.group,
            "requested": to_hours(grant.requested),
            "credited": to_hours(grant.credited),
            "not_credited": to_hours(grant.not_credited),
            "reason": grant.reason,
            "reason_text": grant.reason_text,
            "reference": fact.reference,
            "registered_by": fact.registered_by,
            "school_id": fact.school_id,
            "district": fact.district,
            "detail": fact.detail,
            "recorded_at": datetime.now(UTC),
        }

    def credited_event(self, entry: Doc) -> HoursCredited:
        return HoursCredited(
            **_event_fields(entry),
            requested=entry["requested"],
            credited=entry["credited"],
            capped=entry["not_credited"],
            cap_reason=entry.get("reason_text"),
        )

    def adjusted_event(self, entry: Doc) -> HoursAdjusted:
        return HoursAdjusted(
            **_event_fields(entry),
            adjusts_entry_id=entry["adjusts"],
            hours=entry["credited"],
            reason=entry["reason"],
            reason_text=entry.get("reason_text"),
        )

    def entry_events(self, entry: Doc) -> list[Doc]:
        """The outbox entries written with a ledger entry: its HoursCredited (or, for a correction,
        HoursAdjusted) event."""
        event = self.adjusted_event(entry) if entry.get("adjusts") else self.credited_event(entry)
        return [outbox_entry(event, producer=PRODUCER, actor=Actor(subject=entry["registered_by"]))]

    async def materialize(self, year_id: str, kh: str, entry: Doc) -> Doc:
        """Write a reserved entry to the ledger (with its event), then drop its pending copy."""
        await self.ledger.add(entry, self.entry_events(entry))
        await self.years.clear_pending(year_id, [kh])
        return {key: value for key, value in entry.items() if key not in ("outbox", "outbox_pending")}

    async def complete_pending(self) -> int:
        """Write ledger entries reserved by a process that died before writing them (worker job)."""
        done = 0
        for year_id, pending in await self.years.with_pending():
            for kh, entry in pending.items():
                await self.materialize(year_id, kh, entry)
                done += 1
        return done

    async def entries(self, ce_number: str, year_from: int, year_to: int) -> list[Doc]:
        docs = await self.ledger.of_teacher(ce_number, year_from, year_to)
        docs.sort(key=lambda d: (d["year"], _aware(d["recorded_at"]), d["_id"]))
        return docs


def _event_fields(entry: Doc) -> Doc:
    """What HoursCredited and HoursAdjusted tell of their ledger entry alike."""
    return {
        "entry_id": entry["_id"],
        "ce_number": entry["ce_number"],
        "year": entry["year"],
        "category": HourCategory(entry["category"]),
        "source": entry["source"],
        "reference": {k: v for k, v in (entry.get("reference") or {}).items() if isinstance(v, str | int | float)},
    }


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class BatchCrediting:
    """Credit many facts with a few round trips (the event consumer's path). Same documents and the same
    compare-and-set as ``HoursBank.credit``: per teacher-year one conditional update that matches only
    if every touched cap counter still holds the value the grants were computed from and none of the
    keys has a grant yet. A teacher-year that lost a race is credited fact by fact by ``HoursBank``."""

    def __init__(self, bank: HoursBank) -> None:
        self.bank = bank

    async def credit_many(self, facts: list[HourFact]) -> int:
        """Returns how many facts were credited now (the others existed)."""
        by_key: dict[str, HourFact] = {}
        for fact in facts:
            by_key.setdefault(key_hash(fact.source_key), fact)
        if not by_key:
            return 0
        done = await self.bank.ledger.existing(list(by_key))
        todo = {kh: fact for kh, fact in by_key.items() if kh not in done}
        by_year: dict[str, list[tuple[str, HourFact]]] = {}
        for kh, fact in todo.items():
            by_year.setdefault(year_id_of(fact.ce_number, fact.year), []).append((kh, fact))
        if not by_year:
            return 0
        wanted = {}
        for year_id, items in by_year.items():
            fact0 = items[0][1]
            wanted[year_id] = (fact0.ce_number, fact0.year, (await self.bank.rules.for_year(fact0.year)).all_groups())
        years = await self.bank.years.load_many(wanted)
        changes: list[YearWrite] = []
        planned: dict[str, list[tuple[str, Doc]]] = {}
        for year_id, items in by_year.items():
            doc = years[year_id]
            rules = await self.bank.rules.for_year(items[0][1].year)
            used = dict(doc.get("used") or {})
            original = dict(used)
            grants = doc.get("grants") or {}
            change = YearWrite(year_id)
            entries: list[tuple[str, Doc]] = []
            for kh, fact in items:
                if kh in grants:
                    continue  # reserved before; materialised below or by the repair job
                try:
                    check_source(rules, fact.source, fact.category)
                    if fact.hours < 0:
                        raise RuleViolation("negative_hours", "Hours must not be negative.")
                except RuleViolation:
                    continue  # refused facts are not credited (the single path reports why)
                group = rules.cap_group(fact.source, fact.category)
                grant = allocate(
                    rules, fact.source, fact.category, to_units(fact.hours), used.get(group, 0) if group else 0
                )
                if group is not None:
                    used[group] = used.get(group, 0) + grant.credited
                    change.used_is = {**change.used_is, group: original.get(group)}
                entry = self.bank.new_entry(kh, fact, grant)
                _add(change, reservation(year_id, kh, group, grant, entry), fact)
                entries.append((kh, entry))
            if not entries:
                continue
            changes.append(change)
            planned[year_id] = entries
        applied = await self.bank.years.write_many(changes)
        if applied == len(changes):  # every guard held: all planned grants are this batch's own
            own = [entry for entries in planned.values() for _, entry in entries]
            await self._write_entries(
                own, [(year_id, [kh for kh, _ in entries]) for year_id, entries in planned.items()]
            )
            return len(own)
        # Whoever reserved a key (this batch, or a concurrent delivery of the same fact), its pending copy
        # is the entry to write; a key without a grant lost a counter race and goes the single way.
        after = await self.bank.years.reservations(list(planned))
        to_insert: list[Doc] = []
        cleared: list[tuple[str, list[str]]] = []
        lost: list[HourFact] = []
        for year_id, entries in planned.items():
            doc = after.get(year_id) or {}
            pending = doc.get("pending") or {}
            grants = doc.get("grants") or {}
            mine = [(kh, pending[kh]) for kh, _ in entries if kh in pending]
            lost += [todo[kh] for kh, _ in entries if kh not in grants]
            to_insert += [entry for _, entry in mine]
            if mine:
                cleared.append((year_id, [kh for kh, _ in mine]))
        await self._write_entries(to_insert, cleared)
        for fact in lost:  # raced with another writer: the single path sorts it out
            await self.bank.credit(fact)
        return len(to_insert) + len(lost)

    async def _write_entries(self, entries: list[Doc], cleared: list[tuple[str, list[str]]]) -> None:
        await self.bank.ledger.add_many([(entry, self.bank.entry_events(entry)) for entry in entries])
        await self.bank.years.clear_pending_many(cleared)


def _add(batch: YearWrite, one: YearWrite, fact: HourFact) -> None:
    """Add one fact's reservation to its teacher-year's batch write."""
    batch.no_grants = [*batch.no_grants, *one.grants]
    batch.results_unapplied = [*batch.results_unapplied, *fact.unapplied()]
    batch.grants = {**batch.grants, **one.grants}
    batch.pending = {**batch.pending, **one.pending}
    batch.add_used = _summed(batch.add_used, one.add_used)
    batch.bump_serial = _summed(batch.bump_serial, one.bump_serial)


def _summed(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    return {key: a.get(key, 0) + b.get(key, 0) for key in {*a, *b}}
