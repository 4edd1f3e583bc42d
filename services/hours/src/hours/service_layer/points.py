"""The points bank (积分银行): awards, redemption into hours, expiry at the end of the natural year.

One document per teacher and year holds balance, per-item earnings, the facts (keyed, so one fact
earns once), redemptions and the expiry mark. Every write is a compare-and-set on its ``version``
carrying its events in the same write, so the balance in an event is exact and a redemption racing
the expiry either happens before it (and is not expired) or fails (an expired point is never spent).
Redemption contention is bounded: at most 10 + 10 redemptions a year can succeed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from hours.adapters import points_facts
from hours.adapters.points_accounts import NewFacts, PointsAccountStore, account_id_of
from hours.domain.points import (
    UnknownRule,
    award,
    check_redemption,
    expiry_reminder_year,
    is_expired,
    natural_year,
    redeemable_hours,
)
from hours.service_layer.crediting import HourFact, HoursBank, RulesSource, key_hash
from jijiao_contracts import Actor
from jijiao_contracts.enums import HourCategory
from jijiao_contracts.events.hours import (
    PRODUCER,
    PointsAwarded,
    PointsBalanceChanged,
    PointsExpired,
    PointsExpiring,
    PointsRedeemed,
)
from jijiao_kit.clock import Clock
from jijiao_kit.errors import Conflict, InvalidInput
from jijiao_kit.outbox import outbox_entry

Doc = dict[str, Any]

ERRORS = {
    "redemption_cap": ("Yearly redemption cap reached for this category.", "本年度该类别积分兑换已达上限(10学时)"),
    "insufficient_points": ("Not enough points.", "积分不足"),
    "points_expired": ("The points of this year have expired.", "该年度积分已过期清零"),
    "category_not_redeemable": (
        "Points redeem only into professional or elective hours.",
        "积分只能兑换专业科目或个人选修科目学时",
    ),
    "not_current_year": ("Points redeem only into the current year.", "只能兑换当年度学时"),
    "busy": ("Too much contention; retry.", "系统繁忙，请稍后重试"),
}


def _conflict(code: str) -> Conflict:
    detail, title = ERRORS[code]
    return Conflict(detail, code=code, title=title)


class PointsBank:
    def __init__(self, accounts: PointsAccountStore, rules: RulesSource, hours: HoursBank, clock: Clock) -> None:
        self.accounts = accounts
        self.rules = rules
        self.hours = hours
        self.clock = clock

    async def award(
        self,
        *,
        ce_number: str,
        year: int,
        rule: str,
        reference: str,
        source: str,
        occurred_at: datetime | None = None,
        about: Doc | None = None,
    ) -> Doc | None:
        """Record one points fact; one award per (teacher, year, rule, reference). Returns the fact, or None
        when it was recorded before."""
        rules = await self.rules.for_year(year)
        if rule not in rules.points_rules:
            raise InvalidInput(f"Unknown points rule {rule!r}.", code="unknown_points_rule", title="未知的积分规则")
        kh = key_hash(f"{rule}\x1f{reference}")
        for _ in range(200):
            doc = await self.accounts.load(ce_number, year)
            earned_in_rule = int((doc.get("by_rule") or {}).get(rule, 0))
            result = award(rules, rule, earned_in_rule)
            points, reason = result.points, result.reason
            if doc.get("closed") or is_expired(year, self.clock.now()):
                points, reason = 0, "expired"
            balance = int(doc["balance"]) + points
            fact = {
                "rule": rule,
                "label": rules.points_rules[rule].label,
                "reference": reference,
                "source": source,
                "requested": result.requested,
                "points": points,
                "capped": result.requested - points,
                "reason": reason,
                "at": occurred_at or self.clock.now(),
                "about": about,
            }
            event = PointsAwarded(
                ce_number=ce_number,
                year=year,
                rule=rule,
                points=points,
                capped=result.requested - points,
                balance=balance,
                reference=reference,
            )
            change = NewFacts(
                doc["_id"],
                doc["version"],
                facts={kh: fact},
                by_rule={rule: points},
                points=points,
                events=[outbox_entry(event, producer=PRODUCER)],
                only_if_new=kh,
            )
            if await self.accounts.add_facts(change):
                return fact
            if await self.accounts.has_fact(doc["_id"], kh):
                return None
        raise _conflict("busy")

    async def redeem(
        self, *, ce_number: str, year: int, category: HourCategory, hours: int, actor: Actor
    ) -> tuple[Doc, Doc]:
        """Spend ``hours * points_per_hour`` points and credit the hours; returns (redemption, ledger entry)."""
        now = self.clock.now()
        current = natural_year(now)
        if year < current:
            raise _conflict("points_expired")
        if year > current:
            raise _conflict("not_current_year")
        rules = await self.rules.for_year(year)
        if category not in rules.redemption_caps:
            raise InvalidInput(
                ERRORS["category_not_redeemable"][0],
                code="category_not_redeemable",
                title=ERRORS["category_not_redeemable"][1],
            )
        redemption_id = uuid.uuid4().hex
        points = hours * rules.points_per_hour
        for _ in range(1000):
            doc = await self.accounts.load(ce_number, year)
            # expired at midnight whether or not the expiry job has closed the account yet (a retry of
            # this loop may land after 00:00 on 1 January)
            if doc.get("closed") or natural_year(self.clock.now()) > year:
                raise _conflict("points_expired")
            redeemed = int((doc.get("redeemed") or {}).get(category.value, 0))
            check = check_redemption(rules, category, hours, int(doc["balance"]), redeemed)
            if not check.ok:
                raise _conflict(check.code or "insufficient_points")
            balance = int(doc["balance"]) - points
            redemption = {
                "id": redemption_id,
                "category": category.value,
                "hours": hours,
                "points": points,
                "at": now,
                "by": actor.subject,
            }
            events = [
                PointsRedeemed(
                    ce_number=ce_number,
                    year=year,
                    category=category,
                    hours=hours,
                    points=points,
                    balance=balance,
                    redemption_id=redemption_id,
                ),
                PointsBalanceChanged(ce_number=ce_number, year=year, balance=balance),
            ]
            written = await self.accounts.redeem(
                doc["_id"],
                doc["version"],
                redemption,
                category.value,
                [outbox_entry(event, producer=PRODUCER, actor=actor) for event in events],
            )
            if written:
                entry = await self.credit_redemption(ce_number, year, redemption, actor.subject)
                return redemption, entry
        raise _conflict("busy")

    async def credit_redemption(self, ce_number: str, year: int, redemption: Doc, by: str) -> Doc:
        entry, _ = await self.hours.credit(
            HourFact(
                source_key=f"redemption:{redemption['id']}",
                ce_number=ce_number,
                year=year,
                source="points_redemption",
                category=HourCategory(redemption["category"]),
                hours=float(redemption["hours"]),
                reference={"kind": "points_redemption", "id": redemption["id"], "points": redemption["points"]},
                registered_by=by,
            )
        )
        return entry

    async def expire(self) -> int:
        """Close every account of an ended natural year: unredeemed points expire (worker job)."""
        current = natural_year(self.clock.now())
        closed = 0
        for account_id in await self.accounts.open_before(current):
            for _ in range(200):
                doc = await self.accounts.get_light(account_id)
                if doc is None or doc.get("closed"):
                    break
                balance = int(doc["balance"])
                events = [
                    PointsExpired(ce_number=doc["ce_number"], year=doc["year"], points=balance),
                    PointsBalanceChanged(ce_number=doc["ce_number"], year=doc["year"], balance=0),
                ]
                written = await self.accounts.close(
                    account_id,
                    doc["version"],
                    balance,
                    self.clock.now(),
                    [
                        outbox_entry(event, producer=PRODUCER, actor=Actor(subject="system:points-expiry"))
                        for event in events
                    ],
                )
                if written:
                    closed += 1
                    break
        return closed

    async def remind_expiring(self, batch_size: int = 500) -> int:
        """In December, announce (PointsExpiring) every open account of the year whose balance buys at
        least one hour, once per account: the marker ``expiry_reminder`` is set in the same conditional
        write as the event, so replicas and repeated runs announce each account once (worker job, hourly).
        An account changed between read and write is left for the next run. Returns accounts announced."""
        year = expiry_reminder_year(self.clock.now())
        if year is None:
            return 0
        rules = await self.rules.for_year(year)
        actor = Actor(subject="system:points-expiry-reminder")
        announced = 0
        skip = 0
        while True:
            docs = await self.accounts.to_remind(year, rules.points_per_hour, skip=skip, limit=batch_size)
            if not docs:
                return announced
            reminders: list[tuple[str, int, int, list[Doc]]] = []
            for doc in docs:
                balance = int(doc["balance"])
                event = PointsExpiring(
                    ce_number=doc["ce_number"],
                    year=year,
                    balance=balance,
                    redeemable_hours=redeemable_hours(rules, balance),
                )
                reminders.append(
                    (doc["_id"], doc["version"], balance, [outbox_entry(event, producer=PRODUCER, actor=actor)])
                )
            written = await self.accounts.mark_reminded_many(reminders)
            announced += written
            skip += len(docs) - written  # the ones not written still match: step over them

    async def account(self, ce_number: str, year: int) -> Doc:
        doc = await self.accounts.view(ce_number, year)
        rules = await self.rules.for_year(year)
        doc = doc or {
            "balance": 0,
            "earned": 0,
            "spent": 0,
            "expired": 0,
            "closed": False,
            "facts": {},
            "redemptions": {},
            "redeemed": {},
            "by_rule": {},
        }
        entries: list[Doc] = []
        labels = {rule: spec.label for rule, spec in rules.points_rules.items()}
        for kh, stored in (doc.get("facts") or {}).items():
            entries.append({"id": kh, "type": "award", **points_facts.decode(stored, labels)})
        for rid, redemption in (doc.get("redemptions") or {}).items():
            entries.append({"type": "redemption", **redemption, "id": rid, "points": -redemption["points"]})
        if doc.get("closed"):
            entries.append(
                {
                    "id": "expiry",
                    "type": "expiry",
                    "points": -int(doc.get("expired", 0)),
                    "at": (doc.get("expiry") or {}).get("at"),
                }
            )
        for entry in entries:
            entry["at"] = _when(entry.get("at"))
        entries.sort(key=lambda e: (e.get("at") or datetime.min.replace(tzinfo=UTC), e["id"]))
        stats = []
        for rule, spec in rules.points_rules.items():
            facts = [e for e in entries if e["type"] == "award" and e["rule"] == rule]
            stats.append(
                {
                    "rule": rule,
                    "label": spec.label,
                    "kind": spec.kind,
                    "cap": spec.cap,
                    "count": len(facts),
                    "earned": sum(int(f["points"]) for f in facts),
                }
            )
        redeemed = doc.get("redeemed") or {}
        return {
            "ce_number": ce_number,
            "year": year,
            "balance": int(doc.get("balance", 0)),
            "earned": int(doc.get("earned", 0)),
            "spent": int(doc.get("spent", 0)),
            "expired": int(doc.get("expired", 0)),
            "closed": bool(doc.get("closed")),
            "redeemed_hours": {
                "professional": int(redeemed.get("professional", 0)),
                "elective": int(redeemed.get("elective", 0)),
            },
            "by_rule": stats,
            "entries": entries,
        }


def _when(value: Any) -> datetime | None:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value if isinstance(value, datetime) else None


__all__ = ["PointsBank", "UnknownRule"]


class BatchAwards:
    """Award many points facts with a few round trips (the event consumer's path): per account one
    compare-and-set on its ``version`` carrying all its new facts and their events, computed in order
    with the same rule as ``PointsBank.award``. An account that lost a race is awarded fact by fact."""

    def __init__(self, bank: PointsBank) -> None:
        self.bank = bank

    async def award_many(self, facts: list[Doc]) -> int:
        """``facts``: dicts with ce_number, year, rule, reference, source, occurred_at."""
        by_account: dict[str, list[tuple[str, Doc]]] = {}
        for fact in facts:
            kh = key_hash(f"{fact['rule']}\x1f{fact['reference']}")
            by_account.setdefault(account_id_of(fact["ce_number"], int(fact["year"])), []).append((kh, fact))
        if not by_account:
            return 0
        wanted = {
            account_id: (items[0][1]["ce_number"], int(items[0][1]["year"])) for account_id, items in by_account.items()
        }
        accounts = await self.bank.accounts.load_many(wanted)
        changes: list[NewFacts] = []
        now = self.bank.clock.now()
        for account_id, items in by_account.items():
            doc = accounts[account_id]
            seen = set(doc.get("facts") or {})
            by_rule = dict(doc.get("by_rule") or {})
            balance = int(doc["balance"])
            new_facts: Doc = {}
            rule_points: dict[str, int] = {}
            earned = 0
            events = []
            for kh, fact in items:
                if kh in seen:
                    continue
                rules = await self.bank.rules.for_year(int(fact["year"]))
                if fact["rule"] not in rules.points_rules:
                    continue  # unknown rules earn nothing (logged by the consumer)
                seen.add(kh)
                result = award(rules, fact["rule"], int(by_rule.get(fact["rule"], 0)))
                points, reason = result.points, result.reason
                if doc.get("closed") or is_expired(int(fact["year"]), now):
                    points, reason = 0, "expired"
                by_rule[fact["rule"]] = int(by_rule.get(fact["rule"], 0)) + points
                balance += points
                new_facts[kh] = {
                    "rule": fact["rule"],
                    "reference": fact["reference"],
                    "source": fact["source"],
                    "requested": result.requested,
                    "points": points,
                    "reason": reason,
                    "at": fact.get("occurred_at") or now,
                    "about": fact.get("about"),
                }
                rule_points[fact["rule"]] = rule_points.get(fact["rule"], 0) + points
                earned += points
                events.append(
                    PointsAwarded(
                        ce_number=fact["ce_number"],
                        year=int(fact["year"]),
                        rule=fact["rule"],
                        points=points,
                        capped=result.requested - points,
                        balance=balance,
                        reference=fact["reference"],
                    )
                )
            if not new_facts:
                continue
            changes.append(
                NewFacts(
                    account_id,
                    doc["version"],
                    facts=new_facts,
                    by_rule=rule_points,
                    points=earned,
                    events=[outbox_entry(event, producer=PRODUCER) for event in events],
                )
            )
        if changes:
            applied = await self.bank.accounts.add_facts_many(changes)
            if applied == len(changes):  # every compare-and-set held: nothing to redo
                return applied
        after = await self.bank.accounts.fact_keys(list(by_account))
        redo = 0
        for account_id, items in by_account.items():
            for kh, fact in items:
                if kh not in after.get(account_id, set()):
                    try:
                        await self.bank.award(
                            ce_number=fact["ce_number"],
                            year=int(fact["year"]),
                            rule=fact["rule"],
                            reference=fact["reference"],
                            source=fact["source"],
                            occurred_at=fact.get("occurred_at"),
                            about=fact.get("about"),
                        )
                        redo += 1
                    except InvalidInput:
                        pass
        return len(changes) + redo
