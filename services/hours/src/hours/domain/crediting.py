"""Crediting one hour-granting fact against the yearly caps (DOMAIN.md §6).

A fact first meets its per-item cap (research output: main authors 28, others 14 per item), then the
yearly cap of its cap group given what the group already holds. The credited total of a group is
``min(cap, sum of item-capped requests)`` whatever order the facts arrive in; the excess is recorded as
not credited with its reason."""

from __future__ import annotations

from dataclasses import dataclass

from hours.domain.rules import YearRules
from hours.domain.units import to_hours, to_units
from jijiao_contracts.enums import HourCategory


class RuleViolation(ValueError):
    """A fact that the year's rules do not allow (unknown source, category not allowed for the source)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Grant:
    group: str | None
    requested: int  # units (hundredths of an hour)
    credited: int
    reason: str | None  # stable code of the first limit that cut the fact
    reason_text: str | None  # the same for users (Chinese)

    @property
    def not_credited(self) -> int:
        return self.requested - self.credited


def check_source(rules: YearRules, source: str, category: HourCategory) -> None:
    if source not in rules.sources:
        raise RuleViolation("unknown_source", f"Unknown hours source {source!r}.")
    allowed = rules.sources[source].categories
    if category not in allowed:
        raise RuleViolation(
            "category_not_allowed",
            f"Source {source} credits only {', '.join(c.value for c in allowed)}, not {category.value}.",
        )


def item_capped(rules: YearRules, source: str, requested: int) -> tuple[int, str | None, str | None]:
    """The request after the per-item cap of its source (research output)."""
    item_cap = rules.sources[source].item_cap
    if item_cap is not None and requested > to_units(item_cap):
        label = rules.sources[source].label
        return to_units(item_cap), f"item_cap:{source}", f"超出{label}每项上限{item_cap:g}学时"
    return requested, None, None


def allocate(rules: YearRules, source: str, category: HourCategory, requested: int, used: int) -> Grant:
    """What a fact credits when its cap group already holds ``used`` units this year."""
    check_source(rules, source, category)
    if requested < 0:
        raise RuleViolation("negative_hours", "Hours must not be negative.")
    amount, reason, reason_text = item_capped(rules, source, requested)
    group = rules.cap_group(source, category)
    if group is not None:
        cap = to_units(rules.cap_groups[group].cap)
        room = max(cap - used, 0)
        if amount > room:
            amount = room
            label = rules.cap_groups[group].label
            reason = f"yearly_cap:{group}"
            reason_text = f"超出{label}年度上限{to_hours(cap):g}学时"
    return Grant(group=group, requested=requested, credited=amount, reason=reason, reason_text=reason_text)


def xuexi_hours(rules: YearRules, points: int) -> tuple[int, int]:
    """学习强国: every full ``xuexi_points_per_hour`` points is one hour; returns (hours units, leftover points)."""
    if points < 0:
        raise RuleViolation("negative_points", "Points must not be negative.")
    hours, leftover = divmod(points, rules.xuexi_points_per_hour)
    return to_units(hours), leftover


def replay(rules: YearRules, facts: list[tuple[str, HourCategory, int]]) -> list[Grant]:
    """Credit facts one after the other (the reference model of what the store's counters do)."""
    used: dict[str, int] = {}
    grants = []
    for source, category, requested in facts:
        group = rules.cap_group(source, category)
        grant = allocate(rules, source, category, requested, used.get(group, 0) if group else 0)
        if group:
            used[group] = used.get(group, 0) + grant.credited
        grants.append(grant)
    return grants


@dataclass(frozen=True)
class FactShare:
    """One credited fact of a teacher-year as its cap group sees it."""

    key: str  # the fact's ledger entry
    source: str
    category: HourCategory
    requested: int  # units, as requested
    net: int  # units credited by the entry and its adjustments together
    order: tuple[int, str]  # crediting order: (recorded at, epoch ms; key)


def withdraw(rules: YearRules, facts: list[FactShare], withdrawn: str) -> dict[str, int]:
    """Deltas (units, by fact key) that take a fact's hours out of the bank (a passed result corrected to
    failed) and give the room this frees in its yearly cap group to the group's facts that the cap cut,
    oldest first, up to what each asked for (after its per-item cap). ``facts`` are the teacher-year's
    facts that still count, ``withdrawn`` among them.

    With this the group again holds ``min(cap, sum of item-capped requests of the facts that count)``,
    as if the withdrawn fact had never arrived, and no other fact loses anything."""
    target = next(fact for fact in facts if fact.key == withdrawn)
    deltas = {withdrawn: -target.net} if target.net else {}
    group = rules.cap_group(target.source, target.category)
    if group is None:
        return deltas
    members = [f for f in facts if f.key != withdrawn and rules.cap_group(f.source, f.category) == group]
    room = max(to_units(rules.cap_groups[group].cap) - sum(f.net for f in members), 0)
    for fact in sorted(members, key=lambda f: f.order):
        if room <= 0:
            break
        wanted, _, _ = item_capped(rules, fact.source, fact.requested)
        short = wanted - fact.net
        if short > 0:
            deltas[fact.key] = min(short, room)
            room -= deltas[fact.key]
    return deltas
