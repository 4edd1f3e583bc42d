"""Points bank (积分银行, DOMAIN.md §7): awards against per-item yearly caps, redemption, expiry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from hours.domain.rules import YearRules
from jijiao_contracts.enums import HourCategory

#: The natural year is China's (UTC+8, no daylight saving): points of a year expire at 24:00 on 31 Dec there.
CHINA = timezone(timedelta(hours=8))


def natural_year(at: datetime) -> int:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(CHINA).year


def expiry_reminder_year(now: datetime) -> int | None:
    """The year whose points are about to expire, in December (China's), else None: the month in which
    teachers are reminded to redeem (§7, points expire at the end of the natural year)."""
    local = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(CHINA)
    return local.year if local.month == 12 else None


def redeemable_hours(rules: YearRules, balance: int) -> int:
    """Whole hours the balance buys (redemption is in whole hours of ``points_per_hour``)."""
    return max(balance, 0) // rules.points_per_hour


def is_expired(year: int, now: datetime) -> bool:
    """Points earned in ``year`` can no longer be redeemed once that natural year has ended."""
    return natural_year(now) > year


@dataclass(frozen=True)
class Award:
    rule: str
    requested: int
    points: int
    capped: int
    reason: str | None


class UnknownRule(ValueError):
    pass


def award(rules: YearRules, rule: str, earned_in_rule: int) -> Award:
    """Points one fact of ``rule`` earns when the item already earned ``earned_in_rule`` this year."""
    if rule not in rules.points_rules:
        raise UnknownRule(rule)
    spec = rules.points_rules[rule]
    points = spec.points
    reason = None
    if spec.cap is not None and earned_in_rule + points > spec.cap:
        points = max(spec.cap - earned_in_rule, 0)
        reason = f"item_cap:{rule}"
    return Award(rule=rule, requested=spec.points, points=points, capped=spec.points - points, reason=reason)


@dataclass(frozen=True)
class RedemptionCheck:
    ok: bool
    code: str | None = None


def check_redemption(
    rules: YearRules, category: HourCategory, hours: int, balance: int, redeemed_hours: int
) -> RedemptionCheck:
    """Whole hours, ``points_per_hour`` points each, at most the category's yearly cap."""
    cap = rules.redemption_caps.get(category)
    if cap is None:
        return RedemptionCheck(False, "category_not_redeemable")
    if hours < 1:
        return RedemptionCheck(False, "invalid_hours")
    if redeemed_hours + hours > cap:
        return RedemptionCheck(False, "redemption_cap")
    if balance < hours * rules.points_per_hour:
        return RedemptionCheck(False, "insufficient_points")
    return RedemptionCheck(True)
