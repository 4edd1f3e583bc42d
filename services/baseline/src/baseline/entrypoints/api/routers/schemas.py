"""Request and response models of the baseline API (shared by its routers)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, EmailStr, Field

from baseline.domain.text import check_line, check_paragraphs
from jijiao_kit.timeutil import BoundedDate, BoundedUtcDateTime, UtcDateTime

Mobile = Field(pattern=r"^1\d{10}$", description="手机号")
StageName = Literal["kindergarten", "primary", "junior", "senior"]
#: Free text of one line (names, titles, places): no control, format or non-characters (a 422), so
#: nothing stored can break an export, a PDF or a log, or show other than it reads.
Line = Annotated[str, AfterValidator(check_line)]
#: Free text of several lines (purposes, summaries, notes, rich text): as ``Line``, plus tab, LF and CR.
Paragraphs = Annotated[str, AfterValidator(check_paragraphs)]


class ContactIn(BaseModel):
    name: Line = Field(min_length=1, max_length=50, description="联系人")
    mobile: str = Mobile
    email: EmailStr | None = None


class ContactOut(BaseModel):
    name: str
    mobile: str
    email: str | None = None


class BaseIn(BaseModel):
    name: Line = Field(min_length=1, max_length=100, description="基地名称")
    stage: StageName
    region: Line = Field(min_length=1, max_length=50, description="地区")
    contact: ContactIn


class BaseChangeIn(BaseModel):
    """What the centre may correct (the stage stays: the base's batches offered places of it)."""

    name: Line | None = Field(default=None, min_length=1, max_length=100)
    region: Line | None = Field(default=None, min_length=1, max_length=50)
    contact: ContactIn | None = None


class ZoneChangeIn(BaseModel):
    name: Line | None = Field(default=None, min_length=1, max_length=100)
    region: Line | None = Field(default=None, min_length=1, max_length=50)


class BaseOut(BaseModel):
    id: str
    name: str
    stage: str
    region: str
    contact: ContactOut


class ZoneIn(BaseModel):
    name: Line = Field(min_length=1, max_length=100, description="实验区名称")
    region: Line | None = Field(default=None, max_length=50)
    contact: ContactIn


class ZoneOut(BaseModel):
    id: str
    name: str
    region: str | None = None
    contact: ContactOut


class YearIn(BaseModel):
    year: str = Field(pattern=r"^\d{4}-\d{4}$", description="学年, e.g. 2019-2020")
    demand_deadline: BoundedUtcDateTime
    personnel_deadline: BoundedUtcDateTime
    report_deadline: BoundedUtcDateTime


class DeadlinesIn(BaseModel):
    demand_deadline: BoundedUtcDateTime
    personnel_deadline: BoundedUtcDateTime
    report_deadline: BoundedUtcDateTime


class YearOut(BaseModel):
    year: str
    demand_deadline: UtcDateTime
    personnel_deadline: UtcDateTime
    report_deadline: UtcDateTime
    rewarded_zones: list[str] | None = Field(default=None, description="zones rewarded this year (the centre only)")


class QuotaOut(BaseModel):
    year: str
    zone_id: str
    batches: int
    batch_size: int
    reward_batches: int
    person_times: int
    remaining_demand_places: int = Field(description="剩余名额 (for demands)")
    remaining_allocation_places: int
    remaining_batches: int
    demand_deadline: UtcDateTime


class StageAvailabilityOut(BaseModel):
    stage: str
    stage_label: str
    places: int
    free: int
    hint: Literal["ample", "moderate", "none"]
    hint_label: str


class BatchIn(BaseModel):
    base_id: str = Field(min_length=1, max_length=64)
    starts_on: BoundedDate
    ends_on: BoundedDate
    capacity: int = Field(ge=1, le=20, description="zones per batch")


class AllocationOut(BaseModel):
    zone_id: str
    zone_name: str
    places: int
    trainee_count: int
    confirmed: bool
    demand_id: str | None = None
    demand_type: str | None = Field(default=None, description="研修学习类型 of the demand it answers")


class BatchOut(BaseModel):
    id: str
    year: str
    base_id: str
    base_name: str
    stage: str
    starts_on: date
    ends_on: date
    capacity: int
    zones_left: int
    allocations: list[AllocationOut]


class DemandIn(BaseModel):
    stage: StageName
    places: int = Field(ge=1, le=45, description="申请研修名额")
    purpose: Paragraphs = Field(min_length=1, max_length=500, description="研修学习目的")
    demand_type: Literal["exchange", "lodging", "shadowing"] = Field(description="研修学习类型")
    remark: Line | None = Field(default=None, max_length=200, description="备注 (at most 30 characters)")


class DemandOut(BaseModel):
    id: str
    year: str
    zone_id: str
    stage: str
    places: int
    purpose: str
    demand_type: str
    remark: str | None = None
    sequence: int = Field(description="submission order in the year")
    status: str
    submitted_at: UtcDateTime
    review_comment: str | None = None
    unallocated: int | None = Field(default=None, description="places of the demand no allocation took yet")


class ReviewIn(BaseModel):
    approve: bool
    comment: Paragraphs | None = Field(default=None, max_length=200)


class AllocateIn(BaseModel):
    demand_id: str = Field(min_length=1, max_length=64, description="an approved demand of the batch's stage")
    places: int | None = Field(default=None, ge=1, le=5, description="default: what is left of the demand, ≤ 5")
    zone_id: str | None = Field(default=None, max_length=64, description="optional; must be the demand's zone")


class RewardIn(BaseModel):
    zone_id: str = Field(min_length=1, max_length=64)


class RewardOut(BaseModel):
    year: str
    zone_id: str
    next_year: str
    extra_batches: int


class TraineeIn(BaseModel):
    name: Line = Field(min_length=1, max_length=50)
    gender: Literal["male", "female"]
    post: Line = Field(min_length=1, max_length=50, description="职务")
    mobile: str = Mobile
    email: EmailStr | None = None
    employer: Line = Field(min_length=1, max_length=100, description="工作单位")
    subject: Line = Field(min_length=1, max_length=50, description="学科背景")
    role: Literal["member", "leader"] = Field(default="member", description="leader = 团长")


class TraineeOut(BaseModel):
    id: str
    name: str
    gender: str
    post: str
    mobile: str
    email: str | None = None
    employer: str
    subject: str
    role: str
    reported: bool
    checked_in: bool


class PersonnelOut(BaseModel):
    batch_id: str
    zone_id: str
    places: int
    confirmed: bool
    trainees: list[TraineeOut]
    not_reported: list[str] = Field(description="trainee ids that have not reported (报到)")


class OutcomeIn(BaseModel):
    title: Line = Field(min_length=1, max_length=100, description="学习成果标题")
    summary: Paragraphs = Field(min_length=1, max_length=10_000, description="学习成果 (plain text)")
    shared_on: BoundedDate | None = Field(default=None, description="day of the sharing session in the zone")
    sharing_note: Paragraphs | None = Field(default=None, max_length=500)


class OutcomeOut(BaseModel):
    trainee_id: str
    batch_id: str
    title: str
    summary: str
    shared_on: date | None = None
    sharing_note: str | None = None
    uploaded_at: UtcDateTime


class OutcomeStatusOut(BaseModel):
    trainee_id: str
    name: str
    uploaded: bool
    due_on: date
    overdue: bool
    shared: bool = Field(description="the sharing session (分享报告) in the zone is recorded")
    shared_on: date | None = None
    sharing_overdue: bool = Field(description="no sharing session recorded and the three months are over")


class ReflectionIn(BaseModel):
    kind: Literal["reflection", "insight"] = Field(description="reflection = 心得体会, insight = 学习感悟")
    title: Line = Field(min_length=1, max_length=100)
    body_html: Paragraphs = Field(
        min_length=1, max_length=200_000, description="rich text (HTML; sanitised, at most 10,000 characters of text)"
    )


class ReflectionOut(BaseModel):
    id: str
    trainee_id: str
    trainee_name: str
    batch_id: str
    zone_id: str
    kind: str
    title: str
    body_html: str
    text_chars: int
    excellent: bool


class ExcellentIn(BaseModel):
    excellent: bool = True


class ImageOut(BaseModel):
    id: str
    url: str
    content_type: str
    width: int
    height: int
    size: int


class RowReportOut(BaseModel):
    row: int
    name: str
    accepted: bool
    id: str | None = None
    code: str | None = None
    title: str | None = None


class ImportReportOut(BaseModel):
    accepted: int
    refused: int
    rows: list[RowReportOut]


class ArchiveRowOut(BaseModel):
    year: str
    batch_id: str
    base_id: str
    base_name: str
    stage: str
    demand_type: str | None = Field(default=None, description="研修学习类型 of the demand the batch answers")
    starts_on: date
    ends_on: date
    zone_id: str
    zone_name: str
    trainee_id: str
    name: str
    role: str
    employer: str
    confirmed: bool
    reported: bool
    checked_in: bool
    reflections: int
    excellent_reflections: int
    outcome_uploaded: bool
    outcome_overdue: bool
    sharing_recorded: bool = Field(description="the sharing session (分享报告) in the zone is recorded")
    shared_on: date | None = None
    sharing_overdue: bool


class StatisticsOut(BaseModel):
    base_name: str
    stage: str
    demand_type: str | None = None
    trainees: int
    reported: int
    checked_in: int
    reflections: int
    outcomes: int
    overdue: int
    shared: int = Field(description="trainees who recorded their sharing session")


class SharingIn(BaseModel):
    shared_on: BoundedDate = Field(description="day of the sharing session (分享报告) in the zone")
    sharing_note: Paragraphs | None = Field(default=None, max_length=500, description="audience, topic")


class SharingOut(BaseModel):
    trainee_id: str
    batch_id: str
    shared_on: date
    sharing_note: str | None = None
    recorded_at: UtcDateTime
