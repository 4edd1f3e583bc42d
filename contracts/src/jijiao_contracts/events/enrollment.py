"""Events produced by the enrollment service.

Money is in yuan as a decimal string; times are ISO 8601 with offset (UTC on the wire)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from jijiao_contracts.enums import HourCategory, Stage
from jijiao_contracts.envelope import IntegrationEvent

PRODUCER = "enrollment"

Programme = Literal["city", "district", "school", "special", "ability"]


class SchoolRegistered(IntegrationEvent):
    EVENT_TYPE = "enrollment.school_registered"

    school_id: str
    name: str
    district: str
    seal_name: str


class TeacherRegistered(IntegrationEvent):
    """A teacher was added to a school and got a continuing-education number (继续教育学号)."""

    EVENT_TYPE = "enrollment.teacher_registered"

    ce_number: str
    name: str
    school_id: str
    school_name: str
    district: str
    mobile: str | None = None
    email: str | None = None
    subject: str | None = None
    stage: Stage | None = None
    title: str | None = None
    registered_year: int


class TeacherChanged(IntegrationEvent):
    """A teacher's personal information changed (approved change, correction). Carries the new state."""

    EVENT_TYPE = "enrollment.teacher_changed"

    ce_number: str
    name: str
    school_id: str
    school_name: str
    district: str
    mobile: str | None = None
    email: str | None = None
    subject: str | None = None
    stage: Stage | None = None
    title: str | None = None


class TeacherTransferred(IntegrationEvent):
    """教师调动 approved: the teacher now belongs to the receiving school."""

    EVENT_TYPE = "enrollment.teacher_transferred"

    ce_number: str
    from_school_id: str
    to_school_id: str
    to_school_name: str
    from_district: str
    to_district: str


class InfoChangeReviewed(IntegrationEvent):
    """The school decided on a teacher's personal-information change (个人信息修改审核): approved (the
    changes apply; ``TeacherChanged`` follows in the same write) or returned with a reason."""

    EVENT_TYPE = "enrollment.info_change_reviewed"

    ce_number: str
    name: str
    school_id: str
    approved: bool
    reason: str | None = None
    mobile: str | None = None


class TransferDecided(IntegrationEvent):
    """A transfer application (教师调动申请) was decided: approved (``TeacherTransferred`` follows) or
    refused, by the approving admin (with a reason) or because a rule no longer allows it (``refusal``
    names the rule, e.g. ``special_user``, ``unpaid_selections``). The applicant is the receiving school."""

    EVENT_TYPE = "enrollment.transfer_decided"

    transfer_id: str
    ce_number: str
    teacher_name: str
    from_school_id: str
    to_school_id: str
    to_school_name: str
    approved: bool
    reason: str | None = None
    refusal: str | None = None


class TeacherArchived(IntegrationEvent):
    """归档: left, retired or other; ``status`` "active" means reactivated."""

    EVENT_TYPE = "enrollment.teacher_archived"

    ce_number: str
    status: Literal["active", "left", "retired", "other"]
    school_id: str


class AdminRegistered(IntegrationEvent):
    """A real-name, phone-bound administrator account (city, district, school, institution...)."""

    EVENT_TYPE = "enrollment.admin_registered"

    subject: str  # the token subject, e.g. "account:<id>"
    username: str
    name: str
    mobile: str
    email: str | None = None
    roles: list[str]
    school_id: str | None = None
    district: str | None = None


class AdminChanged(IntegrationEvent):
    """An administrator edited their own profile: the name and email notices use now (the mobile
    changes only by re-binding, ``AdminPhoneRebound``)."""

    EVENT_TYPE = "enrollment.admin_changed"

    subject: str
    name: str
    email: str | None = None


class AdminPhoneRebound(IntegrationEvent):
    """An administrator's bound mobile changed (after a code sent to the new phone)."""

    EVENT_TYPE = "enrollment.admin_phone_rebound"

    subject: str
    mobile: str


class AccountLocked(IntegrationEvent):
    """An account was locked after too many wrong passwords (§1)."""

    EVENT_TYPE = "enrollment.account_locked"

    subject: str
    name: str
    mobile: str | None = None
    school_id: str | None = None
    failed_attempts: int


class AccountUnlocked(IntegrationEvent):
    EVENT_TYPE = "enrollment.account_unlocked"

    subject: str
    name: str
    mobile: str | None = None
    unlocked_by: str


class TermScheduled(IntegrationEvent):
    """A term (期) was created or its dates changed; notify schedules window reminders from it."""

    EVENT_TYPE = "enrollment.term_scheduled"

    term: str
    year: int
    selection_opens_at: datetime
    selection_closes_at: datetime
    study_starts_on: date
    study_ends_on: date
    payment_due_at: datetime


class SelectionMade(IntegrationEvent):
    EVENT_TYPE = "enrollment.selection_made"

    selection_id: str
    term: str
    ce_number: str
    school_id: str
    district: str
    course_code: str
    course_name: str
    programme: Programme
    hour_type: HourCategory
    hours: float
    training_fee: Decimal
    material_fee: Decimal
    payee: str
    selected_by: Literal["teacher", "school_admin", "institution", "system"]


class SelectionCancelled(IntegrationEvent):
    EVENT_TYPE = "enrollment.selection_cancelled"

    selection_id: str
    term: str
    ce_number: str
    school_id: str
    course_code: str
    cancelled_by: str


class BillIssued(IntegrationEvent):
    """A bill and its payment notice (缴款通知书) for one school and payee were issued."""

    EVENT_TYPE = "enrollment.bill_issued"

    bill_id: str
    bill_number: str
    term: str
    school_id: str
    school_name: str
    payee: str
    amount: Decimal
    teacher_count: int
    payment_due_at: datetime


class PaymentRecorded(IntegrationEvent):
    EVENT_TYPE = "enrollment.payment_recorded"

    bill_id: str
    term: str
    school_id: str
    amount: Decimal
    reference: str
    paid_in_full: bool


class SpecialUserFlagged(IntegrationEvent):
    """特殊用户: selected but neither cancelled nor paid by the deadline."""

    EVENT_TYPE = "enrollment.special_user_flagged"

    ce_number: str
    term: str
    school_id: str
    name: str
    mobile: str | None = None
    course_codes: list[str]
    times_flagged: int


class SpecialUserCleared(IntegrationEvent):
    EVENT_TYPE = "enrollment.special_user_cleared"

    ce_number: str
    school_id: str
    name: str
    mobile: str | None = None
    cleared_by: str


class ResultRegistered(IntegrationEvent):
    """A course result. A passed course grants its hours in its hour type (the hours bank credits it)."""

    EVENT_TYPE = "enrollment.result_registered"

    result_id: str
    term: str
    year: int
    ce_number: str
    school_id: str
    district: str
    course_code: str
    course_name: str
    programme: Programme
    passed: bool
    category: HourCategory
    hours: float
    source: Literal["platform_course", "school_based", "training_class"]
    registered_by: str
    # 1 for a selection's first registered result, +1 for each change (pass <-> fail). A consumer applies
    # a result only if it is newer than the one it has applied; 0: sent before revisions existed.
    revision: int = 0


class LearningStarted(IntegrationEvent):
    """The learning platform reports that a teacher began studying a selected course (学习人数)."""

    EVENT_TYPE = "enrollment.learning_started"

    term: str
    ce_number: str
    course_code: str


class SchoolCourseApproved(IntegrationEvent):
    """A school-based course (校本课程) declaration was approved."""

    EVENT_TYPE = "enrollment.school_course_approved"

    term: str
    school_id: str
    course_code: str
    name: str
    hours: float


class SchoolCourseRejected(IntegrationEvent):
    """A school-based course (校本课程) declaration was not approved; ``comment`` is the reviewer's."""

    EVENT_TYPE = "enrollment.school_course_rejected"

    term: str
    school_id: str
    course_code: str
    name: str
    comment: str | None = None


class CredentialsIssued(IntegrationEvent):
    """A programme account (a research-base zone contact or trainee) was opened with an initial secret.

    ``sealed_password`` is the secret sealed for notify's key (``jijiao_kit.sealing``): only notify can
    open it, to send it to ``mobile`` by SMS; it is never readable on the broker, in an outbox or a log.
    It works until ``valid_until`` and must be changed at the first sign-in."""

    EVENT_TYPE = "enrollment.credentials_issued"

    subject: str
    login: str
    name: str
    mobile: str
    role: str  # "zone_contact" or "trainee"
    sealed_password: str
    valid_until: datetime
    report_deadline: datetime | None = None  # a trainee reports (报到) by then
