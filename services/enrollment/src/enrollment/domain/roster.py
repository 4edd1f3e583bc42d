"""Roster rules (DOMAIN §1): teacher fields, archiving, personal-info review, the principal."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from enrollment.domain import identity
from jijiao_kit.names import refused_characters

MOBILE = re.compile(r"^1\d{10}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
STAGES = ("kindergarten", "primary", "junior", "senior", "vocational")
GENDERS = ("male", "female")


class TeacherStatus(StrEnum):
    """在职 / 离职 / 退休 / 其他: only active teachers may select courses."""

    ACTIVE = "active"
    LEFT = "left"
    RETIRED = "retired"
    OTHER = "other"


class InvalidField(ValueError):
    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


def normalize_id(raw: str) -> str:
    try:
        return identity.normalize_id_number(raw)
    except identity.InvalidIdNumber as exc:
        raise InvalidField("id_number", "invalid_id_number", str(exc)) from exc


def check_mobile(value: str) -> str:
    value = value.strip()
    if not MOBILE.match(value):
        raise InvalidField("mobile", "invalid_mobile", "mobile must be 11 digits starting with 1")
    return value


def check_name(value: str) -> str:
    value = value.strip()
    if not value or len(value) > 50:
        raise InvalidField("name", "invalid_name", "name is required (at most 50 characters)")
    if refused_characters(value):
        raise InvalidField("name", "invalid_name", "name may not contain control or format characters")
    return value


def check_optional(field: str, value: Any) -> Any:
    """Optional teacher fields: stage and gender from fixed lists, email shaped, short texts."""
    if value is None or value == "":
        return None
    if field == "stage" and value not in STAGES:
        raise InvalidField("stage", "invalid_stage", f"stage must be one of {', '.join(STAGES)}")
    if field == "gender" and value not in GENDERS:
        raise InvalidField("gender", "invalid_gender", "gender must be male or female")
    if field == "email" and not EMAIL.match(str(value)):
        raise InvalidField("email", "invalid_email", "email address is malformed")
    if field in ("subject", "title") and len(str(value)) > 30:
        raise InvalidField(field, f"invalid_{field}", f"{field} is at most 30 characters")
    return value


# --- personal-info changes (信息更新 → 提交审核 → 审核 / 退回; 重新更新) -------------------------------

#: Fields a teacher may always submit for review.
SELF_EDITABLE = frozenset({"mobile", "email", "subject", "stage", "title", "gender"})
#: Fields a teacher may change only after the school admin re-opened the record (重新更新).
REOPEN_ONLY = frozenset({"name", "id_number"})


class ReviewState(StrEnum):
    NONE = "none"
    SUBMITTED = "submitted"  # 已提交，未审核
    RETURNED = "returned"  # 退回 (with a reason)
    APPROVED = "approved"


def clean_changes(changes: dict[str, Any], *, reopened: bool) -> dict[str, Any]:
    """Validate a teacher's submitted changes and return them normalised (ID upper-case X, trimmed).

    Raises InvalidField for an unknown field, a field that needs re-opening, or a bad value."""
    if not changes:
        raise InvalidField("changes", "no_changes", "submit at least one field")
    cleaned: dict[str, Any] = {}
    for field, value in changes.items():
        if field not in SELF_EDITABLE | REOPEN_ONLY:
            raise InvalidField(field, "field_not_editable", f"{field} cannot be changed here")
        if field in REOPEN_ONLY and not reopened:
            raise InvalidField(
                field,
                "record_not_reopened",
                f"{field} can be corrected only after the school admin re-opens the record",
            )
        if field == "id_number":
            cleaned[field] = normalize_id(str(value))
        elif field == "name":
            cleaned[field] = check_name(str(value))
        elif field == "mobile":
            cleaned[field] = check_mobile(str(value))
        else:
            cleaned[field] = check_optional(field, value)
    return cleaned


def effective_changes(teacher: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Only what really differs from the record."""
    return {field: value for field, value in changes.items() if teacher.get(field) != value}


# --- archiving (归档) -------------------------------------------------------------------------------


def archive_allowed(current: str, target: str) -> bool:
    """Any status may move to any other; moving to the same status is a no-op the caller refuses."""
    return current != target and target in TeacherStatus.__members__.values()


# --- the principal (授权校长) -------------------------------------------------------------------------


def principal_refusal(school: dict[str, Any], teacher: dict[str, Any]) -> str | None:
    """Why ``teacher`` cannot be authorised as the principal of ``school`` (one per school)."""
    if teacher["school_id"] != school["_id"]:
        return "teacher_not_in_school"
    if teacher.get("status", "active") != TeacherStatus.ACTIVE:
        return "teacher_not_active"
    if school.get("principal_ce_number"):
        return "principal_exists"
    return None


def is_principal(teacher: dict[str, Any], school: dict[str, Any] | None) -> bool:
    return bool(
        school
        and school.get("principal_ce_number") == teacher["_id"]
        and teacher["school_id"] == school["_id"]
        and teacher.get("status", "active") == TeacherStatus.ACTIVE
    )
