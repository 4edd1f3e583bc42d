"""Selection rules (DOMAIN §2): who may select and delete, when. Pure, no I/O.

Rules return a refusal code (or None); the service layer maps codes to HTTP problems and to the
per-row results of collective selection, so every path reports the same reasons."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

Doc = Mapping[str, Any]


class Actor(StrEnum):
    TEACHER = "teacher"
    SCHOOL_ADMIN = "school_admin"
    INSTITUTION = "institution"
    CITY_ADMIN = "city_admin"
    SYSTEM = "system"


def active_key(term: str, ce_number: str, course_code: str) -> str:
    """One active selection per teacher x course x term (unique sparse index on this key)."""
    return f"{term}:{ce_number}:{course_code}"


def teacher_refusal(teacher: Doc) -> str | None:
    """Only active, non-special teachers may be selected for courses (§1)."""
    if teacher.get("special_user"):
        return "special_user"
    if teacher.get("status", "active") != "active":
        return "teacher_not_active"
    return None


def course_refusal(course: Doc, teacher: Doc, *, actor: Actor, via_ability_project: bool = False) -> str | None:
    """Whether this course may be selected for this teacher through the ordinary selection path."""
    programme = course.get("programme")
    if programme == "ability" and not via_ability_project:
        # Ability courses are chosen by the teacher after the diagnostic assessment (§2a); never by
        # admins collectively, and never outside the ability plan.
        return "ability_collective_forbidden" if actor is Actor.SCHOOL_ADMIN else "ability_plan_required"
    if programme == "special":
        return "special_application_required"
    if programme == "school" and course.get("school_id") != teacher.get("school_id"):
        return "course_not_for_school"
    if programme == "district" and course.get("district") != teacher.get("district"):
        return "course_not_for_district"
    return None


def selection_refusal(*, window_open: bool, actor: Actor) -> str | None:
    """Teachers select themselves and school admins select collectively only inside the window."""
    if actor in (Actor.TEACHER, Actor.SCHOOL_ADMIN, Actor.CITY_ADMIN) and not window_open:
        return "window_closed"
    return None


def deletion_refusal(
    *,
    actor: Actor,
    window_open: bool,
    institution_of_course: bool,
    paid: bool,
    locked_compulsory: bool,
    passed: bool = False,
    own_school_course: bool = False,
) -> str | None:
    """Cancelling or deleting a selection (§2, §2a):
    - teachers cancel their own, only inside the window;
    - school admins (and the city) delete inside the window only;
    - afterwards only the course's training institution may delete; a school-based course (校本) has
      none, and its school enrolls teachers at any time (§5), so its school admin may also delete any time;
    - a paid selection is not deleted here (refunds are outside this system);
    - a selection with a passed result is not deleted (its hours are in the hours bank: correct the
      result instead, which takes them back);
    - ability-project compulsory courses are locked."""
    if locked_compulsory:
        return "ability_compulsory_locked"
    if passed:
        return "selection_passed"
    if paid:
        return "selection_paid"
    if actor is Actor.INSTITUTION:
        return None if institution_of_course else "not_course_institution"
    if actor is Actor.SCHOOL_ADMIN and own_school_course:
        return None
    if actor in (Actor.TEACHER, Actor.SCHOOL_ADMIN, Actor.CITY_ADMIN):
        return None if window_open else "window_closed"
    return "forbidden"
