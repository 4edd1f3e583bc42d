"""Course results that change: a passed course re-registered as failed takes its hours back, and
passed again credits them again (DOMAIN.md §4: only a passed course grants hours).

Every registration of a result carries its revision (``ResultRegistered.revision``); the teacher-year
document keeps, per result, the newest revision applied (``results.<result id>``: ``rev``, ``on`` = its
hours count, ``key`` = the ledger entry that credits them). A registration older than or equal to
that is stale and changes nothing, so redelivered and reordered events leave one answer. Before any
correction the state is implied: the first pass credits the entry ``result:<id>`` (revision 1).

A withdrawal is written like a credit (service_layer/crediting.py): one compare-and-set on the
teacher-year that changes the cap group's counter, records the new state and holds the adjustment
entries as pending, then the ledger entries (each with its ``HoursAdjusted`` event). The room the
withdrawn hours free in a yearly cap goes to the facts that cap cut (``domain.crediting.withdraw``)."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hours.adapters.teacher_years import YearWrite
from hours.domain.crediting import FactShare, RuleViolation, allocate, withdraw
from hours.domain.rules import YearRules
from hours.domain.units import to_hours, to_units
from hours.service_layer.crediting import HoursBank, key_hash, reservation, rule_error
from hours.service_layer.facts import result_fact
from jijiao_contracts import Envelope
from jijiao_contracts.enums import HourCategory
from jijiao_contracts.events.enrollment import ResultRegistered
from jijiao_kit.errors import Conflict
from jijiao_kit.timeutil import as_utc, epoch_ms

Doc = dict[str, Any]
REVOKED = "result_revoked"
REFILLED = "cap_room_freed"
REASON_TEXT = {REVOKED: "成绩更正为不合格，撤销该课程学时", REFILLED: "年度上限腾出空间，补记此前超出上限的学时"}


@dataclass(frozen=True)
class ResultState:
    rev: int
    on: bool
    key: str

    @staticmethod
    def of(year_doc: Doc, result_id: str) -> tuple[ResultState, YearWrite]:
        """The applied state of a result and a teacher-year write that expects it to be still so."""
        year_id = str(year_doc.get("_id", ""))
        stored = (year_doc.get("results") or {}).get(result_id)
        if stored is not None:
            state = ResultState(int(stored["rev"]), bool(stored["on"]), str(stored["key"]))
            return state, YearWrite(year_id, result_rev={result_id: state.rev})
        first = key_hash(f"result:{result_id}")
        on = first in (year_doc.get("grants") or {})
        return ResultState(1 if on else 0, on, first), YearWrite(
            year_id, results_unapplied=[result_id], grants_present={first: on}
        )

    def stored(self) -> Doc:
        return {"rev": self.rev, "on": self.on, "key": self.key}


def as_read(doc: Doc, field: str, group: str) -> int | None:
    """What ``<field>.<group>`` holds in ``doc`` (None: absent, for a group added to the year's rules
    after the document was created): a write expects it unchanged."""
    value = (doc.get(field) or {}).get(group)
    return int(value) if value is not None else None


class ResultCorrections:
    def __init__(self, bank: HoursBank) -> None:
        self.bank = bank

    async def apply(self, event: ResultRegistered, envelope: Envelope) -> None:
        revision = max(event.revision, 1)  # 0: sent before revisions, i.e. a first registration
        if revision == 1:  # a first registration: a pass credits (unless a newer one was applied)
            if event.passed:
                await self.bank.credit(result_fact(event, envelope))
            return
        year_id = await self.bank.ensure_year(event.ce_number, event.year)
        rules = await self.bank.rules.for_year(event.year)
        for _ in range(200):
            doc = await self.bank.years.get(year_id) or {"_id": year_id}
            state, unchanged = ResultState.of(doc, event.result_id)
            if state.rev >= revision:
                return  # this registration, or a newer one, was applied
            if state.on == event.passed:  # nothing to move: remember the revision
                unchanged.results = {event.result_id: ResultState(revision, state.on, state.key).stored()}
                written = await self.bank.years.write(unchanged)
            elif event.passed:
                written = await self._credit_again(doc, rules, event, envelope, revision, unchanged)
            else:
                written = await self._withdraw(doc, rules, event, envelope, revision, state, unchanged)
            if written:
                return
            await asyncio.sleep(random.uniform(0, 0.01))  # lost a race on this teacher-year: read again
        raise Conflict("Too much contention on this teacher's year.", code="busy", title="系统繁忙，请稍后重试")

    async def _credit_again(
        self,
        doc: Doc,
        rules: YearRules,
        event: ResultRegistered,
        envelope: Envelope,
        revision: int,
        unchanged: YearWrite,
    ) -> bool:
        fact = dataclasses.replace(
            result_fact(event, envelope), source_key=f"result:{event.result_id}:{revision}", result_id=None
        )
        kh = key_hash(fact.source_key)
        group = rules.cap_group(fact.source, fact.category)
        used = (doc.get("used") or {}).get(group, 0) if group else 0
        try:
            grant = allocate(rules, fact.source, fact.category, to_units(fact.hours), used)
        except RuleViolation as exc:  # the year's rules changed since: refused like a first registration
            raise rule_error(exc) from exc
        entry = self.bank.new_entry(kh, fact, grant)
        change = reservation(doc["_id"], kh, group, grant, entry)
        change.results_unapplied = unchanged.results_unapplied
        change.result_rev = unchanged.result_rev
        change.grants_present = unchanged.grants_present
        change.no_grants = [kh]
        if group is not None:
            change.used_is = {group: as_read(doc, "used", group)}
        change.results = {event.result_id: ResultState(revision, True, kh).stored()}
        written = await self.bank.years.write(change)
        if written:
            await self.bank.materialize(doc["_id"], kh, entry)
        return written

    async def _withdraw(
        self,
        doc: Doc,
        rules: YearRules,
        event: ResultRegistered,
        envelope: Envelope,
        revision: int,
        state: ResultState,
        unchanged: YearWrite,
    ) -> bool:
        facts, entries = await self._facts(doc)
        target = facts.get(state.key)
        if target is None:
            return False  # its entry is not written yet (being materialised): read again
        group = rules.cap_group(target.source, target.category)
        counted = [fact for fact in facts.values() if group and rules.cap_group(fact.source, fact.category) == group]
        if group and sum(fact.net for fact in counted) != (doc.get("used") or {}).get(group, 0):
            return False  # the ledger and the counter disagree for a moment (a write in flight)
        deltas = withdraw(rules, list(facts.values()), state.key)
        tag = f"{event.result_id}:{revision}"
        adjustments = [
            self._adjustment(entries[key], delta, REVOKED if key == state.key else REFILLED, tag, event, envelope)
            for key, delta in deltas.items()
        ]
        change = unchanged
        change.results = {event.result_id: ResultState(revision, False, state.key).stored()}
        # for good, even with nothing credited (cut to 0 by the cap): never refilled, never counted
        change.withdrawn = [state.key]
        change.no_grants = [adjustment["_id"] for adjustment in adjustments]
        change.grants = {adjustment["_id"]: to_units(adjustment["credited"]) for adjustment in adjustments}
        change.pending = {adjustment["_id"]: adjustment for adjustment in adjustments}
        if group is not None:  # nobody changed the group's facts since they were read (see crediting.py)
            change.serial_is = {group: as_read(doc, "serial", group)}
            change.bump_serial = {group: 1}
            change.used_is = {group: as_read(doc, "used", group)}
            change.add_used = {group: sum(deltas.values())}
        written = await self.bank.years.write(change)
        if written:
            for adjustment in adjustments:
                await self.bank.materialize(doc["_id"], adjustment["_id"], adjustment)
        return written

    async def _facts(self, doc: Doc) -> tuple[dict[str, FactShare], dict[str, Doc]]:
        """The teacher-year's facts that still count, with what each nets after its adjustments
        (ledger entries and pending ones not yet written), and their entries."""
        year = int(doc["year"])
        entries = {entry["_id"]: entry for entry in await self.bank.ledger.of_teacher(doc["ce_number"], year, year)}
        entries.update(doc.get("pending") or {})
        nets: dict[str, int] = {}
        withdrawn = set(doc.get("withdrawn") or {})
        for key, entry in entries.items():
            if entry.get("adjusts"):
                nets[entry["adjusts"]] = nets.get(entry["adjusts"], 0) + to_units(float(entry["credited"]))
            else:
                nets[key] = nets.get(key, 0) + to_units(float(entry["credited"]))
        facts = {
            key: FactShare(
                key=key,
                source=entry["source"],
                category=HourCategory(entry["category"]),
                requested=to_units(float(entry["requested"])),
                net=nets.get(key, 0),
                order=(epoch_ms(as_utc(entry["recorded_at"]) or datetime.now(UTC)), key),
            )
            for key, entry in entries.items()
            if not entry.get("adjusts") and key not in withdrawn
        }
        return facts, entries

    def _adjustment(
        self, fact: Doc, delta: int, reason: str, tag: str, event: ResultRegistered, envelope: Envelope
    ) -> Doc:
        source_key = f"adjust:{fact['_id']}:{tag}"
        return {
            "_id": key_hash(source_key),
            "source_key": source_key,
            "adjusts": fact["_id"],
            "ce_number": fact["ce_number"],
            "year": fact["year"],
            "category": fact["category"],
            "source": fact["source"],
            "cap_group": fact.get("cap_group"),
            "requested": 0.0,
            "credited": to_hours(delta),
            "not_credited": 0.0,
            "reason": reason,
            "reason_text": REASON_TEXT[reason],
            "reference": {
                "kind": "result_correction",
                "result_id": event.result_id,
                "revision": event.revision,
                "event_id": envelope.event_id,
                "course_code": event.course_code,
                "course_name": event.course_name,
            },
            "registered_by": event.registered_by,
            "school_id": fact.get("school_id"),
            "district": fact.get("district"),
            "detail": {},
            "recorded_at": datetime.now(UTC),
        }
