"""Response models of the hours API (DESIGN.md rule 5): every answer is described in the OpenAPI
document. Times are ``UtcDateTime`` (stored times may come back naive: they are UTC)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from jijiao_kit.timeutil import UtcDateTime


class LedgerEntryOut(BaseModel):
    """One ledger entry: a fact credited against the caps, or an adjustment of one (``adjusts``)."""

    id: str
    year: int
    category: str
    source: str
    cap_group: str | None = None
    requested: float
    credited: float
    not_credited: float
    reason: str | None = None
    reason_text: str | None = None
    reference: dict[str, Any] = Field(default_factory=dict)
    registered_by: str | None = None
    recorded_at: UtcDateTime | None = None
    detail: dict[str, Any] | None = None
    adjusts: str | None = Field(None, description="the entry this one corrects (result corrections)")


class YearHoursOut(BaseModel):
    public: float
    professional: float = Field(description="includes the hours carried in from the year before")
    elective: float
    total: float
    carried_in: float
    entries: list[LedgerEntryOut]


class VerificationOut(BaseModel):
    ce_number: str
    name: str | None = None
    school_id: str | None = None
    school_name: str | None = None
    year: int
    public: float
    professional: float
    elective: float
    total: float
    carried_in: float
    carried_out: float
    passed: bool
    requirement: dict[str, float]
    shortfall: dict[str, float]


class PointsEntryOut(BaseModel):
    """An award (rule, reference, capped part), a redemption (category, hours) or the year's expiry."""

    id: str
    type: Literal["award", "redemption", "expiry"]
    points: int
    at: UtcDateTime | None = None
    rule: str | None = None
    label: str | None = None
    reference: str | None = None
    source: str | None = None
    requested: int | None = None
    capped: int | None = None
    reason: str | None = None
    category: str | None = None
    hours: int | None = None
    title: str | None = None  # what an award was for (a resource's or topic's title)
    workshop_id: str | None = None
    workshop_name: str | None = None
    by: str | None = None


class RuleStatsOut(BaseModel):
    rule: str
    label: str
    kind: str
    cap: int | None = None
    count: int
    earned: int


class RedeemedHoursOut(BaseModel):
    professional: int = 0
    elective: int = 0


class PointsAccountOut(BaseModel):
    ce_number: str
    year: int
    balance: int
    earned: int
    spent: int
    expired: int
    closed: bool
    redeemed_hours: RedeemedHoursOut
    by_rule: list[RuleStatsOut]
    entries: list[PointsEntryOut]


class RedemptionRecordOut(BaseModel):
    id: str
    category: str
    hours: int
    points: int
    at: UtcDateTime | None = None
    by: str | None = None


class RedemptionOut(BaseModel):
    redemption: RedemptionRecordOut
    entry: LedgerEntryOut
    balance: int
    redeemed_hours: RedeemedHoursOut


class PointsAwardOut(BaseModel):
    """``duplicate``: the fact was registered before (nothing else is told)."""

    status: Literal["awarded", "duplicate"]
    rule: str | None = None
    label: str | None = None
    reference: str | None = None
    source: str | None = None
    requested: int | None = None
    points: int | None = None
    capped: int | None = None
    reason: str | None = None
    at: UtcDateTime | None = None


class ReportRowOut(BaseModel):
    row: int
    status: Literal["credited", "duplicate", "error"]
    code: str | None = None
    message: str | None = None
    detail: str | None = None
    ce_number: str | None = None
    entry_id: str | None = None
    credited: float | None = None
    not_credited: float | None = None
    reason: str | None = None


class BulkRegistrationOut(BaseModel):
    rows: int
    credited: int
    duplicate: int
    error: int
    report: list[ReportRowOut]


class ProofOut(BaseModel):
    proof_id: str
    filename: str
    content_type: str
    size: int


class AttachmentOut(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int | None = None


class ReviewOut(BaseModel):
    decision: str
    reason: str | None = None
    reviewer: str
    reviewer_name: str | None = None
    at: UtcDateTime | None = None


class RoundOut(BaseModel):
    round: int
    submitted_at: UtcDateTime | None = None
    year: int | None = None
    training_type: str | None = None
    category: str | None = None
    hours: float | None = None
    title: str | None = None
    institution: str | None = None
    description: str | None = None
    attachment_ids: list[str] = Field(default_factory=list)
    initial: ReviewOut | None = None
    final: ReviewOut | None = None


class DeclarationOut(BaseModel):
    id: str
    ce_number: str
    teacher_name: str | None = None
    school_id: str | None = None
    district: str | None = None
    year: int
    training_type: str
    category: str
    hours: float
    title: str
    institution: str = ""
    description: str = ""
    attachments: list[AttachmentOut]
    status: str
    round: int
    rounds: list[RoundOut]
    version: int
    created_at: UtcDateTime | None = None
    updated_at: UtcDateTime | None = None
    entry_id: str | None = Field(None, description="the ledger entry of an approved declaration")


class DeclarationPageOut(BaseModel):
    items: list[DeclarationOut]
    skip: int
    limit: int


class ComplaintOut(BaseModel):
    id: str
    year: int
    ce_number: str
    teacher_name: str | None = None
    school_id: str | None = None
    school_name: str | None = None
    district: str | None = None
    content: str
    status: Literal["open", "handled"]
    filed_at: UtcDateTime | None = None
    reply: str | None = None
    handled_by: str | None = None
    handled_at: UtcDateTime | None = None


class ComplaintPageOut(BaseModel):
    items: list[ComplaintOut]
    skip: int
    limit: int


class SchoolComplaintsOut(BaseModel):
    school_id: str | None = None
    school_name: str | None = None
    total: int
    open: int
    handled: int


class ComplaintStatisticsOut(BaseModel):
    schools: list[SchoolComplaintsOut]


class VerificationRunOut(BaseModel):
    year: int
    teachers: int
    passed: int
    changed: int = Field(description="teachers whose result changed (each announced by VerificationCompleted)")
    seconds: float


class CycleOut(BaseModel):
    id: str
    name: str
    start_year: int
    end_year: int


class CycleRowOut(BaseModel):
    ce_number: str
    name: str | None = None
    school_name: str | None = None
    year: int
    total: float
    public: float
    professional: float
    elective: float
    passed: bool


class CycleTeacherOut(BaseModel):
    ce_number: str
    name: str | None = None
    school_name: str | None = None
    total: float
    public: float
    professional: float
    elective: float


class CycleVerificationOut(BaseModel):
    cycle: CycleOut
    rows: list[CycleRowOut]
    teachers: list[CycleTeacherOut]


class ExpiredAccountsOut(BaseModel):
    expired_accounts: int


class RemindedAccountsOut(BaseModel):
    reminded_accounts: int


class CompletedEntriesOut(BaseModel):
    completed: int


def binary(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route that answers a file: its media type in the OpenAPI document."""
    return {
        200: {"description": description, "content": {media_type: {"schema": {"type": "string", "format": "binary"}}}}
    }
