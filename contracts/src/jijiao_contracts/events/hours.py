"""Events produced by the hours and points service."""

from __future__ import annotations

from typing import Literal

from jijiao_contracts.enums import HourCategory
from jijiao_contracts.envelope import IntegrationEvent

PRODUCER = "hours"


class HoursCredited(IntegrationEvent):
    """An hour-granting fact was entered in the ledger; ``capped`` hours were over a yearly cap."""

    EVENT_TYPE = "hours.hours_credited"

    entry_id: str
    ce_number: str
    year: int
    category: HourCategory
    source: str
    requested: float
    credited: float
    capped: float
    cap_reason: str | None = None
    reference: dict[str, str | int | float | None] | None = None


class HoursAdjusted(IntegrationEvent):
    """A correction entered in the ledger: ``hours`` (signed) change what ``adjusts_entry_id`` credits,
    e.g. a passed result re-registered as failed (``result_revoked``, negative) or hours that were over a
    yearly cap and now fit because that room was freed (``cap_room_freed``, positive)."""

    EVENT_TYPE = "hours.hours_adjusted"

    entry_id: str
    adjusts_entry_id: str
    ce_number: str
    year: int
    category: HourCategory
    source: str
    hours: float
    reason: str
    reason_text: str | None = None
    reference: dict[str, str | int | float | None] | None = None


class DeclarationReviewed(IntegrationEvent):
    """学时申报 reviewed: initial (school) or final (upper level), approved or returned with a reason."""

    EVENT_TYPE = "hours.declaration_reviewed"

    declaration_id: str
    ce_number: str
    year: int
    title: str
    level: Literal["initial", "final"]
    decision: Literal["approved", "returned"]
    reason: str | None = None
    reviewer: str


class VerificationCompleted(IntegrationEvent):
    """Annual verification (年度验证) computed for a teacher and year."""

    EVENT_TYPE = "hours.verification_completed"

    ce_number: str
    year: int
    public: float
    professional: float
    elective: float
    total: float
    passed: bool
    carried_out: float


class PointsAwarded(IntegrationEvent):
    EVENT_TYPE = "hours.points_awarded"

    ce_number: str
    year: int
    rule: str
    points: int
    capped: int
    balance: int
    reference: str | None = None


class PointsRedeemed(IntegrationEvent):
    EVENT_TYPE = "hours.points_redeemed"

    ce_number: str
    year: int
    category: HourCategory
    hours: int
    points: int
    balance: int
    redemption_id: str | None = None


class PointsExpired(IntegrationEvent):
    EVENT_TYPE = "hours.points_expired"

    ce_number: str
    year: int
    points: int


class PointsExpiring(IntegrationEvent):
    """In December: the teacher's unredeemed points of the year buy at least one hour and expire at the
    end of 31 December (§7). Once per teacher and year; notify reminds the teacher."""

    EVENT_TYPE = "hours.points_expiring"

    ce_number: str
    year: int
    balance: int
    redeemable_hours: int


class PointsBalanceChanged(IntegrationEvent):
    """The teacher's unredeemed balance for the year; notify reminds in December before expiry."""

    EVENT_TYPE = "hours.points_balance_changed"

    ce_number: str
    year: int
    balance: int
