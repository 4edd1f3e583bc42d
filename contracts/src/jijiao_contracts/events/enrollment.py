"""Events produced by the enrollment service."""

from __future__ import annotations

from jijiao_contracts.enums import Stage
from jijiao_contracts.envelope import IntegrationEvent

PRODUCER = "enrollment"


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


class AccountLocked(IntegrationEvent):
    """An account was locked after too many wrong passwords (§1)."""

    EVENT_TYPE = "enrollment.account_locked"

    subject: str
    name: str
    mobile: str | None = None
    school_id: str | None = None
    failed_attempts: int
