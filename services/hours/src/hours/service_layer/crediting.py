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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from hours.adapters.mongo import LEDGER, TEACHER_YEARS
from hours.domain.crediting import Grant, RuleViolation, allocate, check_source, item_capped
from hours.domain.units import to_hours, to_units
from hours.service_layer.rules import RulesService
from jijiao_contracts import Actor
from jijiao_contracts.enums import HourCategory
from jijiao_contracts.events.hours import PRODUCER, HoursAdjusted, HoursCredited
from jijiao_kit.errors import Conflict, InvalidInput
from jijiao_kit.outbox import outbox_entry, with_outbox

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

    def guard(self) -> Doc:
        """The teacher-year condition that keeps a stale result from being credited."""
        return {f"results.{self.result_id}": {"$exists": False}} if self.result_id else {}


def rule_error(exc: RuleViolation) -> InvalidInput:
    titles = {
        "unknown_source": "未知的学时来源",
        "category_not_allowed": "该来源不能登记此类别学时",
        "negative_hours": "学时不能为负数",
        "negative_points": "积分不能为负数",
    }
    return InvalidInput(str(exc), code=exc.code, title=titles.get(exc.code, "学时登记不符合规则"))


class HoursBank:
    def __init__(self, db: AsyncDatabase[Doc], rules: RulesService) -> None:
        self.ledger = db[LEDGER]
        self.years = db[TEACHER_YEARS]
        self.rules = rules

    async def credit(self, fact: HourFact) -> tuple[Doc, bool]:
        """Returns the ledger entry and whether this call created it."""
        kh = key_hash(fact.source_key)
        existing = await self.ledger.find_one({"_id": kh}, {"outbox": 0})
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
        year_id = f"{fact.ce_number}:{fact.year}"
        group = rules.cap_group(fact.source, fact.category)
        amount, reason, reason_text = item_capped(rules, fact.source, requested)
        fast = Grant(group, requested, amount, reason, reason_text)
        condition: Doc = {"_id": year_id, f"grants.{kh}": {"$exists": False}, **fact.guard()}
        if group is not None:
            condition[f"used.{group}"] = {"$lte": to_units(rules.cap_groups[group].cap) - amount}
        entry = self._entry(kh, fact, fast)
        result = await self.years.update_one(condition, self._reserve(kh, group, fast, entry))
        created = result.modified_count == 1
        if not created:
            reserved = await self._reserve_slowly(kh, fact, group, rules.all_groups())
            if reserved is None:  # a newer registration of this result was applied: nothing to credit
                return {"_id": kh, "source_key": fact.source_key, "stale": True}, False
            entry, created = reserved
        stored = await self._materialize(year_id, kh, entry)
        return stored, created

    def _reserve(self, kh: str, group: str | None, grant: Grant, entry: Doc) -> Doc:
        inc: Doc = {"pending_count": 1}
        if group is not None:
            inc[f"used.{group}"] = grant.credited
            inc[f"serial.{group}"] = 1  # every change to a group's facts: the version corrections compare
        return {"$set": {f"grants.{kh}": grant.credited, f"pending.{kh}": entry}, "$inc": inc}

    async def ensure_year(self, ce_number: str, year: int) -> str:
        """The teacher-year document exists (created empty if not); returns its id."""
        year_id = f"{ce_number}:{year}"
        groups = (await self.rules.for_year(year)).all_groups()
        try:
            await self.years.update_one(
                {"_id": year_id},
                {
                    "$setOnInsert": {
                        "ce_number": ce_number,
                        "year": year,
                        "used": dict.fromkeys(groups, 0),
                        "grants": {},
                        "pending": {},
                        "pending_count": 0,
                    }
                },
                upsert=True,
            )
        except DuplicateKeyError:
            pass
        return year_id

    async def _reserve_slowly(
        self, kh: str, fact: HourFact, group: str | None, groups: list[str]
    ) -> tuple[Doc, bool] | None:
        """Compare-and-set on the group's counter: read it, compute the grant, write only if unchanged.
        None: the fact is a result whose newer registration was applied already."""
        year_id = await self.ensure_year(fact.ce_number, fact.year)
        rules = await self.rules.for_year(fact.year)
        for _ in range(500):
            doc = await self.years.find_one({"_id": year_id}) or {}
            if fact.result_id and fact.result_id in (doc.get("results") or {}):
                return None
            if kh in (doc.get("grants") or {}):
                pending = (doc.get("pending") or {}).get(kh)
                if pending is not None:
                    return pending, False
                stored = await self.ledger.find_one({"_id": kh}, {"outbox": 0})
                if stored is not None:
                    return stored, False
                continue  # being materialised right now
            used = (doc.get("used") or {}).get(group) if group else None
            grant = allocate(rules, fact.source, fact.category, to_units(fact.hours), used or 0)
            condition: Doc = {"_id": year_id, f"grants.{kh}": {"$exists": False}, **fact.guard()}
            if group is not None:
                condition[f"used.{group}"] = used if used is not None else {"$exists": False}
            entry = self._entry(kh, fact, grant)
            result = await self.years.update_one(condition, self._reserve(kh, group, grant, entry))
            if result.modified_count == 1:
                return entry, True
        raise Conflict("Too much contention on this teacher's year.", code="busy", title="系统繁忙，请稍后重试")

    def _entry(self, kh: str, fact: HourFact, grant: Grant) -> Doc:
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

    def ledger_document(self, entry: Doc) -> Doc:
        """The ledger entry as inserted: with its HoursCredited (or, for a correction, HoursAdjusted)
        event in the same write."""
        event = self.adjusted_event(entry) if entry.get("adjusts") else self.credited_event(entry)
        return with_outbox(entry, [outbox_entry(event, producer=PRODUCER, actor=Actor(subject=entry["registered_by"]))])

    async def _materialize(self, year_id: str, kh: str, entry: Doc) -> Doc:
        try:
            await self.ledger.insert_one(self.ledger_document(entry))
        except DuplicateKeyError:
            pass
        await self.years.update_one(*clear_pending(year_id, [kh]))
        return {key: value for key, value in entry.items() if key not in ("outbox", "outbox_pending")}

    async def complete_pending(self) -> int:
        """Write ledger entries reserved by a process that died before writing them (worker job)."""
        done = 0
        async for doc in self.years.find({"pending_count": {"$gt": 0}}, {"pending": 1}):
            for kh, entry in list((doc.get("pending") or {}).items()):
                await self._materialize(doc["_id"], kh, entry)
                done += 1
        return done

    async def entries(self, ce_number: str, year_from: int, year_to: int) -> list[Doc]:
        cursor = self.ledger.find(
            {"ce_number": ce_number, "year": {"$gte": year_from, "$lte": year_to}}, {"outbox": 0, "outbox_pending": 0}
        )
        docs = [doc async for doc in cursor]
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
        done = {doc["_id"] async for doc in self.bank.ledger.find({"_id": {"$in": list(by_key)}}, {"_id": 1})}
        todo = {kh: fact for kh, fact in by_key.items() if kh not in done}
        by_year: dict[str, list[tuple[str, HourFact]]] = {}
        for kh, fact in todo.items():
            by_year.setdefault(f"{fact.ce_number}:{fact.year}", []).append((kh, fact))
        if not by_year:
            return 0
        years = await self._load_years(by_year)
        writes = []
        planned: dict[str, list[tuple[str, Doc]]] = {}
        for year_id, items in by_year.items():
            doc = years[year_id]
            fact0 = items[0][1]
            rules = await self.bank.rules.for_year(fact0.year)
            used = dict(doc.get("used") or {})
            original = dict(used)
            grants = doc.get("grants") or {}
            condition: Doc = {"_id": year_id}
            sets: Doc = {}
            inc: Doc = {}
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
                    condition[f"used.{group}"] = original.get(group, {"$exists": False})
                    used[group] = used.get(group, 0) + grant.credited
                    inc[f"used.{group}"] = inc.get(f"used.{group}", 0) + grant.credited
                    inc[f"serial.{group}"] = inc.get(f"serial.{group}", 0) + 1
                condition[f"grants.{kh}"] = {"$exists": False}
                condition.update(fact.guard())
                entry = self.bank._entry(kh, fact, grant)
                sets[f"grants.{kh}"] = grant.credited
                sets[f"pending.{kh}"] = entry
                entries.append((kh, entry))
            if not entries:
                continue
            inc["pending_count"] = len(entries)
            writes.append(UpdateOne(condition, {"$set": sets, "$inc": inc}))
            planned[year_id] = entries
        applied = 0
        if writes:
            applied = (await self.bank.years.bulk_write(writes, ordered=False)).modified_count
        if applied == len(writes):  # every guard held: all planned grants are this batch's own
            own = [self.bank.ledger_document(entry) for entries in planned.values() for _, entry in entries]
            own_unsets = [
                UpdateOne(*clear_pending(year_id, [kh for kh, _ in entries])) for year_id, entries in planned.items()
            ]
            await self._write_entries(own, own_unsets)
            return len(own)
        # Whoever reserved a key (this batch, or a concurrent delivery of the same fact), its pending copy
        # is the entry to write; a key without a grant lost a counter race and goes the single way.
        after = {
            doc["_id"]: doc
            async for doc in self.bank.years.find({"_id": {"$in": list(planned)}}, {"pending": 1, "grants": 1})
        }
        to_insert: list[Doc] = []
        unsets: list[UpdateOne] = []
        lost: list[HourFact] = []
        for year_id, entries in planned.items():
            doc = after.get(year_id) or {}
            pending = doc.get("pending") or {}
            grants = doc.get("grants") or {}
            mine = [(kh, pending[kh]) for kh, _ in entries if kh in pending]
            lost += [todo[kh] for kh, _ in entries if kh not in grants]
            to_insert += [self.bank.ledger_document(entry) for _, entry in mine]
            if mine:
                unsets.append(UpdateOne(*clear_pending(year_id, [kh for kh, _ in mine])))
        await self._write_entries(to_insert, unsets)
        for fact in lost:  # raced with another writer: the single path sorts it out
            await self.bank.credit(fact)
        return len(to_insert) + len(lost)

    async def _write_entries(self, to_insert: list[Doc], unsets: list[UpdateOne]) -> None:
        if to_insert:
            try:
                await self.bank.ledger.insert_many(to_insert, ordered=False)
            except BulkWriteError as exc:
                if any(error.get("code") != 11000 for error in exc.details.get("writeErrors", [])):
                    raise
        if unsets:
            await self.bank.years.bulk_write(unsets, ordered=False)

    async def _load_years(self, by_year: dict[str, list[tuple[str, HourFact]]]) -> dict[str, Doc]:
        ids = list(by_year)
        projection = {"used": 1, "grants": 1}
        years = {doc["_id"]: doc async for doc in self.bank.years.find({"_id": {"$in": ids}}, projection)}
        missing = [year_id for year_id in ids if year_id not in years]
        if missing:
            new_docs = []
            for year_id in missing:
                fact = by_year[year_id][0][1]
                rules = await self.bank.rules.for_year(fact.year)
                new_docs.append(
                    {
                        "_id": year_id,
                        "ce_number": fact.ce_number,
                        "year": fact.year,
                        "used": dict.fromkeys(rules.all_groups(), 0),
                        "grants": {},
                        "pending": {},
                        "pending_count": 0,
                    }
                )
            taken: list[str] = []  # created meanwhile by another writer: read them
            try:
                await self.bank.years.insert_many(new_docs, ordered=False)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if any(error.get("code") != 11000 for error in errors):
                    raise
                taken = [new_docs[error["index"]]["_id"] for error in errors]
            for doc in new_docs:
                if doc["_id"] not in taken:
                    years[doc["_id"]] = {"_id": doc["_id"], "used": doc["used"], "grants": doc["grants"]}
            if taken:
                async for doc in self.bank.years.find({"_id": {"$in": taken}}, projection):
                    years[doc["_id"]] = doc
        return years


def clear_pending(year_id: str, keys: list[str]) -> tuple[Doc, Doc]:
    """Remove the pending copies of these grants once their ledger entries are written (only those still
    there, so the counter stays exact when two writers finish the same grant)."""
    return (
        {"_id": year_id, **{f"pending.{kh}": {"$exists": True} for kh in keys}},
        {"$unset": {f"pending.{kh}": "" for kh in keys}, "$inc": {"pending_count": -len(keys)}},
    )
