"""Who is flagged at the payment deadline, and the clearing rules (first vs second time, collective)."""

from __future__ import annotations

from typing import Any

import pytest

from enrollment.domain.special_users import clearance_refusal, clearance_round, flag_candidates, unpaid_at_deadline


def sel(**fields: Any) -> dict[str, Any]:
    base = {
        "ce_number": "t1",
        "course_code": "c1",
        "programme": "city",
        "hour_type": "professional",
        "training_fee_fen": 12000,
        "material_fee_fen": 0,
        "status": "active",
        "paid": False,
        "bill_id": None,
    }
    return {**base, **fields}


def test_unpaid_active_city_selection_flags() -> None:
    assert unpaid_at_deadline(sel(), set())
    assert unpaid_at_deadline(sel(programme="ability"), set())


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "cancelled"},
        {"paid": True},
        {"programme": "district"},
        {"programme": "school"},
        {"training_fee_fen": 0},
        {"training_fee_fen": 0, "material_fee_fen": 500},  # nothing due under the §3 rule (material not billed)
    ],
)
def test_not_flagged(fields: dict[str, Any]) -> None:
    assert not unpaid_at_deadline(sel(**fields), set())


def test_a_selection_on_a_paid_bill_counts_as_paid_even_if_not_marked_yet() -> None:
    assert not unpaid_at_deadline(sel(bill_id="b1"), {"b1"})
    assert unpaid_at_deadline(sel(bill_id="b1"), {"b2"})


def test_candidates_group_course_codes_per_teacher() -> None:
    selections = [sel(course_code="c2"), sel(course_code="c1"), sel(ce_number="t2", paid=True), sel(ce_number="t3")]
    assert flag_candidates(selections, set()) == {"t1": ["c1", "c2"], "t3": ["c1"]}


def teacher(times: int, special: bool = True) -> dict[str, Any]:
    return {"special_user": special, "special_user_times": times}


def test_rounds() -> None:
    assert clearance_round(1) == "first"
    assert clearance_round(2) == "second" and clearance_round(5) == "second"


def test_first_time_needs_only_the_identity_check() -> None:
    assert (
        clearance_refusal(teacher(1), method="in_person", identity_checked=True, school_proof=False, collective=False)
        is None
    )
    assert (
        clearance_refusal(teacher(1), method="email", identity_checked=True, school_proof=False, collective=False)
        is None
    )
    assert (
        clearance_refusal(teacher(1), method="in_person", identity_checked=False, school_proof=True, collective=False)
        == "identity_proof_required"
    )


@pytest.mark.parametrize("times", [2, 3])
def test_second_time_needs_the_school_sealed_proof(times: int) -> None:
    assert (
        clearance_refusal(
            teacher(times), method="in_person", identity_checked=True, school_proof=False, collective=False
        )
        == "school_proof_required"
    )
    assert (
        clearance_refusal(
            teacher(times), method="in_person", identity_checked=True, school_proof=True, collective=False
        )
        is None
    )


def test_collective_clearing_always_needs_the_schools_sealed_application() -> None:
    assert (
        clearance_refusal(teacher(1), method="in_person", identity_checked=True, school_proof=False, collective=True)
        == "school_proof_required"
    )
    assert (
        clearance_refusal(teacher(1), method="in_person", identity_checked=True, school_proof=True, collective=True)
        is None
    )


def test_not_special_and_bad_method() -> None:
    assert (
        clearance_refusal(
            teacher(1, special=False), method="in_person", identity_checked=True, school_proof=True, collective=False
        )
        == "not_special_user"
    )
    assert (
        clearance_refusal(teacher(1), method="fax", identity_checked=True, school_proof=True, collective=False)
        == "invalid_clearing_method"
    )
