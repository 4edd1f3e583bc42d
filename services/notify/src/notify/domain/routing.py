"""Which event causes which notice to whom: one ``Route`` per event type.

A route is pure: it reads the event and names a template, an audience and the template values. The
service layer resolves the audience against the contact book and creates the notices. Adding a notice
for a new event (studio, baseline) is one entry in ``ROUTES``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from jijiao_contracts import IntegrationEvent
from jijiao_contracts.enums import HourCategory
from jijiao_contracts.events import baseline as bl
from jijiao_contracts.events import enrollment as en
from jijiao_contracts.events import hours as hr
from notify.domain.schedule import as_utc

SHANGHAI = ZoneInfo("Asia/Shanghai")
Channel = str  # "sms" | "email"
#: ``HoursAdjusted.reason`` of a passed result re-registered as failed (hours withdrawn).
RESULT_REVOKED = "result_revoked"
CATEGORY_LABELS = {
    HourCategory.PUBLIC: "公需科目",
    HourCategory.PROFESSIONAL: "专业科目",
    HourCategory.ELECTIVE: "个人选修科目",
}


@dataclass(frozen=True)
class Teacher:
    """A teacher by CE number; the event's own mobile/name serve when the contact book lacks them."""

    ce_number: str
    mobile: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Subject:
    """An account by token subject (admins: ``account:<id>``; teachers: ``teacher:<ce_number>``)."""

    subject: str
    mobile: str | None = None
    name: str | None = None
    email: str | None = None  # an address the event names (a zone contact outside the contact book)


@dataclass(frozen=True)
class SchoolAdmins:
    school_id: str


Audience = Teacher | Subject | SchoolAdmins


@dataclass(frozen=True)
class Notice:
    template: str
    audience: Audience
    values: dict[str, Any]
    channels: tuple[Channel, ...] = ("sms",)


@dataclass(frozen=True)
class Route:
    event: type[IntegrationEvent]
    build: Callable[[Any], Notice | None]

    @property
    def name(self) -> str:
        return f"notify.notice.{self.event.EVENT_TYPE}"


def local_time(value: datetime) -> str:
    return as_utc(value).astimezone(SHANGHAI).strftime("%Y年%m月%d日 %H:%M")


def money(value: Decimal) -> str:
    return f"{Decimal(value):.2f}"


def hours_text(value: float) -> str:
    return f"{value:g}"


def _welcome(e: en.TeacherRegistered) -> Notice:
    return Notice(
        "teacher_welcome",
        Teacher(e.ce_number, e.mobile, e.name),
        {"name": e.name, "school_name": e.school_name, "ce_number": e.ce_number},
        ("sms", "email"),
    )


def _bill(e: en.BillIssued) -> Notice:
    return Notice(
        "bill_issued",
        SchoolAdmins(e.school_id),
        {
            "school_name": e.school_name,
            "term": e.term,
            "bill_number": e.bill_number,
            "payee": e.payee,
            "teacher_count": e.teacher_count,
            "amount": money(e.amount),
            "due_at": local_time(e.payment_due_at),
        },
        ("sms", "email"),
    )


def _flagged(e: en.SpecialUserFlagged) -> Notice:
    return Notice("special_user_flagged", Teacher(e.ce_number, e.mobile, e.name), {"name": e.name, "term": e.term})


def _cleared(e: en.SpecialUserCleared) -> Notice:
    return Notice("special_user_cleared", Teacher(e.ce_number, e.mobile, e.name), {"name": e.name})


def _result(e: en.ResultRegistered) -> Notice:
    return Notice(
        "result_passed" if e.passed else "result_failed",
        Teacher(e.ce_number),
        {"course_name": e.course_name, "term": e.term, "hours": hours_text(e.hours)},
    )


def _declaration(e: hr.DeclarationReviewed) -> Notice | None:
    """A return at either level, and the final approval (the decision on the application); the initial
    approval only passes it on to the upper level and says nothing."""
    if e.decision == "returned":
        return Notice("declaration_returned", Teacher(e.ce_number), {"title": e.title, "reason": e.reason or "未说明"})
    if e.level == "final":
        return Notice("declaration_approved", Teacher(e.ce_number), {"title": e.title, "year": e.year})
    return None


def _hours_withdrawn(e: hr.HoursAdjusted) -> Notice | None:
    """Only a withdrawal by a corrected result tells the teacher (a refill of capped hours does not)."""
    if e.reason != RESULT_REVOKED or e.hours >= 0:
        return None
    reference = e.reference or {}
    course_name, course_code = reference.get("course_name"), reference.get("course_code")
    course = f"《{course_name}》" if course_name else (str(course_code) if course_code else "")
    return Notice(
        "hours_withdrawn", Teacher(e.ce_number), {"year": e.year, "course": course, "hours": hours_text(-e.hours)}
    )


def _points_redeemed(e: hr.PointsRedeemed) -> Notice:
    return Notice(
        "points_redeemed",
        Teacher(e.ce_number),
        {
            "points": e.points,
            "hours": hours_text(e.hours),
            "category": CATEGORY_LABELS.get(e.category, str(e.category)),
            "year": e.year,
            "balance": e.balance,
        },
    )


def _points_expiring(e: hr.PointsExpiring) -> Notice:
    """December: the hours bank announces each balance that still buys a whole hour (once a year)."""
    return Notice("points_expiring", Teacher(e.ce_number), {"year": e.year, "balance": e.balance})


def _points_expired(e: hr.PointsExpired) -> Notice | None:
    if e.points <= 0:
        return None
    return Notice("points_expired", Teacher(e.ce_number), {"year": e.year, "points": e.points})


def _info_change(e: en.InfoChangeReviewed) -> Notice:
    if e.approved:
        return Notice("info_change_approved", Teacher(e.ce_number, e.mobile, e.name), {"name": e.name})
    return Notice(
        "info_change_returned", Teacher(e.ce_number, e.mobile, e.name), {"name": e.name, "reason": e.reason or "未说明"}
    )


#: Why a transfer was refused by a rule (``TransferDecided.refusal``), as the applying school reads it.
TRANSFER_REFUSALS = {
    "special_user": "该教师为特殊用户，须先解除特殊用户状态",
    "unpaid_selections": "该教师有往期未缴费的选课",
    "teacher_moved": "该教师所在学校已变更",
    "teacher_not_found": "该教师记录不存在",
    "same_school": "该教师已在调入学校",
}


def _transfer(e: en.TransferDecided) -> Notice:
    """The decision goes to the receiving school's administrators: they applied."""
    values = {"teacher_name": e.teacher_name, "ce_number": e.ce_number, "to_school_name": e.to_school_name}
    if e.approved:
        return Notice("transfer_approved", SchoolAdmins(e.to_school_id), values)
    reason = e.reason or TRANSFER_REFUSALS.get(e.refusal or "", "未说明")
    return Notice("transfer_refused", SchoolAdmins(e.to_school_id), {**values, "reason": reason})


def _school_course_approved(e: en.SchoolCourseApproved) -> Notice:
    values = {"course_name": e.name, "hours": hours_text(e.hours), "term": e.term}
    return Notice("school_course_approved", SchoolAdmins(e.school_id), values)


def _school_course_rejected(e: en.SchoolCourseRejected) -> Notice:
    values = {"course_name": e.name, "term": e.term, "reason": e.comment or "未说明"}
    return Notice("school_course_rejected", SchoolAdmins(e.school_id), values)


def _locked(e: en.AccountLocked) -> Notice:
    return Notice(
        "account_locked", Subject(e.subject, e.mobile, e.name), {"name": e.name, "failed_attempts": e.failed_attempts}
    )


def _unlocked(e: en.AccountUnlocked) -> Notice:
    return Notice("account_unlocked", Subject(e.subject, e.mobile, e.name), {"name": e.name})


ROUTES: tuple[Route, ...] = (
    Route(en.TeacherRegistered, _welcome),
    Route(en.BillIssued, _bill),
    Route(en.SpecialUserFlagged, _flagged),
    Route(en.SpecialUserCleared, _cleared),
    Route(en.ResultRegistered, _result),
    Route(hr.DeclarationReviewed, _declaration),
    Route(hr.HoursAdjusted, _hours_withdrawn),
    Route(hr.PointsRedeemed, _points_redeemed),
    Route(hr.PointsExpiring, _points_expiring),
    Route(hr.PointsExpired, _points_expired),
    Route(en.InfoChangeReviewed, _info_change),
    Route(en.TransferDecided, _transfer),
    Route(en.SchoolCourseApproved, _school_course_approved),
    Route(en.SchoolCourseRejected, _school_course_rejected),
    Route(en.AccountLocked, _locked),
    Route(en.AccountUnlocked, _unlocked),
)


# --- baseline: the national research-base programme (issue 15) ---------------------------------------
BASELINE_STAGES = {"kindergarten": "幼儿园", "primary": "小学", "junior": "初中", "senior": "高中"}


def _batch_allocated(e: bl.BatchAllocated) -> Notice:
    """The zone contact hears of an allocation by SMS and by email."""
    return Notice(
        "baseline_batch_allocated",
        Subject(f"zone_contact:{e.zone_id}", e.contact_mobile, e.contact_name, e.contact_email),
        {
            "zone_name": e.zone_name,
            "base_name": e.base_name,
            "stage": BASELINE_STAGES.get(e.stage, e.stage),
            "starts_on": e.starts_on,
            "ends_on": e.ends_on,
            "places": e.places,
            "personnel_deadline": local_time(datetime.fromisoformat(e.personnel_deadline)),
        },
        ("sms", "email"),
    )


def _outcome_reminder(e: bl.OutcomeReminderDue) -> Notice:
    return Notice(
        "baseline_outcome_reminder",
        Subject(f"trainee:{e.trainee_id}", e.mobile, e.name),
        {"due_on": e.due_on},
    )


PROGRAMME_ROLES = {"zone_contact": "实验区联系人", "trainee": "研修人员"}


def _credentials(e: en.CredentialsIssued) -> Notice:
    """The login of a zone contact or trainee; the secret stays sealed until the SMS is rendered. A
    trainee is also asked to report (报到) by the report deadline."""
    values = {
        "role_label": PROGRAMME_ROLES.get(e.role, e.role),
        "login": e.login,
        "password": e.sealed_password,
        "valid_until": local_time(e.valid_until),
    }
    if e.report_deadline is not None:
        values["report_deadline"] = local_time(e.report_deadline)
        return Notice("programme_credentials_report", Subject(e.subject, e.mobile, e.name), values)
    return Notice("programme_credentials", Subject(e.subject, e.mobile, e.name), values)


# -- studio notices (issue 13): kept in their own block so other services' routes merge cleanly --
from jijiao_contracts.events import studio as st  # noqa: E402

STUDIO_ROLE_LABELS = {"member": "成员", "student": "网络学员"}
STUDIO_DECISION_LABELS = {"admitted": "已录取", "rejected": "未录取"}
STUDIO_MODE_LABELS = {"online": "线上", "offline": "线下"}
STUDIO_GRADE_LABELS = {"excellent": "优秀", "good": "良好", "qualified": "合格", "unqualified": "不合格"}


def _studio_decided(e: st.StudioApplicationDecided) -> Notice:
    values = {
        "studio_name": e.studio_name,
        "round": e.round,
        "role_label": STUDIO_ROLE_LABELS.get(e.role, e.role),
        "decision_label": STUDIO_DECISION_LABELS.get(e.decision, e.decision),
    }
    return Notice("studio_application_decided", Teacher(e.ce_number), values)


def _studio_announced(e: st.StudioActivityAnnounced) -> Notice:
    values = {
        "studio_name": e.studio_name,
        "title": e.title,
        "mode_label": STUDIO_MODE_LABELS.get(e.mode, e.mode),
        "starts_at": local_time(datetime.fromisoformat(e.starts_at)),
    }
    return Notice("studio_activity_announced", Teacher(e.ce_number), values)


def _studio_summary_due(e: st.StudioSummaryDue) -> Notice:
    return Notice("studio_summary_due", Teacher(e.host_ce_number), {"studio_name": e.studio_name, "title": e.title})


def _studio_evaluated(e: st.StudioMemberEvaluated) -> Notice:
    period = "本周期" if e.period == "cycle" else f"{e.period}年度"
    values = {
        "studio_name": e.studio_name,
        "period_label": period,
        "grade_label": STUDIO_GRADE_LABELS.get(e.grade, e.grade),
    }
    return Notice("studio_member_evaluated", Teacher(e.ce_number), values)


ROUTES = (
    *ROUTES,
    Route(bl.BatchAllocated, _batch_allocated),
    Route(bl.OutcomeReminderDue, _outcome_reminder),
    Route(en.CredentialsIssued, _credentials),
    Route(st.StudioApplicationDecided, _studio_decided),
    Route(st.StudioActivityAnnounced, _studio_announced),
    Route(st.StudioSummaryDue, _studio_summary_due),
    Route(st.StudioMemberEvaluated, _studio_evaluated),
)
