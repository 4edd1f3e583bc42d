"""Teacher transfers (教师调动, DOMAIN §1): who approves, and when an application is refused.

The receiving school applies with the teacher's CE number and the name or the last six ID characters. A move within one district is approved by
that district's admin, a move across districts by the city admin (who may act everywhere). A special
user, or a teacher with any unpaid selection of a past term, cannot be transferred."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from enrollment.domain.billing import due_fen


class ApproverLevel(StrEnum):
    DISTRICT = "district"
    CITY = "city"


class TransferStatus(StrEnum):
    PENDING = "pending"
    APPROVING = "approving"  # claimed by one approver; the move is being applied
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Approver:
    level: ApproverLevel
    district: str | None  # the district whose admin approves (None: the city)


def approver_for(from_district: str, to_district: str) -> Approver:
    """Same district: that district's admin; across districts: the city admin."""
    if from_district == to_district:
        return Approver(ApproverLevel.DISTRICT, from_district)
    return Approver(ApproverLevel.CITY, None)


def may_decide(roles: frozenset[str] | set[str], district: str | None, approver: Approver) -> bool:
    """The city admin decides every transfer; a district admin only the same-district ones of its district."""
    if "city_admin" in roles:
        return True
    return approver.level is ApproverLevel.DISTRICT and "district_admin" in roles and district == approver.district


class Refusal(StrEnum):
    SAME_SCHOOL = "same_school"
    SPECIAL_USER = "special_user"
    UNPAID_SELECTIONS = "unpaid_selections"


def transfer_refusal(teacher: dict[str, Any], to_school_id: str, unpaid_selections: int) -> Refusal | None:
    """Why a transfer of ``teacher`` to ``to_school_id`` must be refused now, or None."""
    if teacher["school_id"] == to_school_id:
        return Refusal.SAME_SCHOOL
    if teacher.get("special_user"):
        return Refusal.SPECIAL_USER
    if unpaid_selections > 0:
        return Refusal.UNPAID_SELECTIONS
    return None


def is_unpaid_past(selection: dict[str, Any], past_terms: set[str]) -> bool:
    """An active selection of a term whose payment deadline has passed, with something to pay (what
    it adds to its school's bill), that is not paid. A free course (school-based training, a course
    without fees) is never billed, so it never stands in the way.

    ``paid`` is read by truth value: the embedded store returns a boolean written by ``$set`` as 1."""
    return (
        selection.get("status") == "active"
        and not selection.get("paid")
        and selection["term"] in past_terms
        and due_fen(selection) > 0
    )


def reactivates_on_arrival(status: str) -> bool:
    """A teacher archived as "left" by the old school becomes active at the new one (§1)."""
    return status == "left"


def _normal_name(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


def identifies(teacher: dict[str, Any], *, name: str | None, id_number_tail: str | None) -> bool:
    """Whether the receiving school's proof names this teacher: every piece given must match (the name,
    spaces and width ignored; the last six ID characters, ``x`` as ``X``) and at least one is given."""
    if not name and not id_number_tail:
        return False
    if name and _normal_name(name) != _normal_name(str(teacher.get("name") or "")):
        return False
    id_number = str(teacher.get("id_number") or "")
    return not (id_number_tail and (len(id_number) < 6 or id_number_tail.strip().upper() != id_number[-6:].upper()))
