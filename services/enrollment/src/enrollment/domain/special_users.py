"""Special users (特殊用户, DOMAIN §1 and §3). Pure rules, no I/O.

- At the payment deadline, a teacher with a city-run selection that is neither cancelled nor paid is
  flagged by the centre (once per term; ``special_user_times`` counts the flags).
- Clearing (seed, 取消特殊用户申请表 学员须知): the first time with the teacher's valid ID (in person, or the
  signed form with an ID image by email); the second time (and later) also with a proof sealed by the
  school. Collective clearing for a school always comes with the school's sealed written application
  (盖学校公章的正式书面申请), which is that proof.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from enrollment.domain.billing import CITY_RUN_PROGRAMMES, due_fen

CLEARING_METHODS = frozenset({"in_person", "email"})


def unpaid_at_deadline(selection: Mapping[str, Any], paid_bill_ids: set[str]) -> bool:
    """A city-run selection with something to pay, still active, and paid neither itself nor by its bill."""
    if selection.get("status") != "active" or selection.get("programme") not in CITY_RUN_PROGRAMMES:
        return False
    if due_fen(selection) <= 0 or selection.get("paid"):
        return False
    return not (selection.get("bill_id") and selection["bill_id"] in paid_bill_ids)


def flag_candidates(selections: Iterable[Mapping[str, Any]], paid_bill_ids: set[str]) -> dict[str, list[str]]:
    """CE number → the course codes that make the teacher a special user (sorted)."""
    found: dict[str, set[str]] = {}
    for selection in selections:
        if unpaid_at_deadline(selection, paid_bill_ids):
            found.setdefault(str(selection["ce_number"]), set()).add(str(selection["course_code"]))
    return {ce: sorted(codes) for ce, codes in sorted(found.items())}


def clearance_round(times_flagged: int) -> str:
    """ "first" for a teacher flagged once, "second" for twice or more (the stricter rule)."""
    return "first" if times_flagged <= 1 else "second"


def clearance_refusal(
    teacher: Mapping[str, Any], *, method: str, identity_checked: bool, school_proof: bool, collective: bool
) -> str | None:
    """None when the clearing may go ahead, else a refusal code."""
    if not teacher.get("special_user"):
        return "not_special_user"
    if method not in CLEARING_METHODS:
        return "invalid_clearing_method"
    if not identity_checked:
        return "identity_proof_required"
    if collective and not school_proof:
        return "school_proof_required"
    if clearance_round(int(teacher.get("special_user_times") or 0)) == "second" and not school_proof:
        return "school_proof_required"
    return None
