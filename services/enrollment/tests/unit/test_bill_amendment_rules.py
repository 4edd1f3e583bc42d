"""Bills that follow late changes: content derived from the selections, statuses when what was paid
stays paid, and when a term's bills follow changes at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from enrollment.domain import billing

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


def sel(sid: str, ce: str, code: str = "c1", **fields: Any) -> dict[str, Any]:
    return {
        "_id": sid,
        "ce_number": ce,
        "course_code": code,
        "course_name": f"课程{code}",
        "programme": "city",
        "training_fee_fen": 12000,
        "material_fee_fen": 3000,
        "status": "active",
        "payee": "TV",
        "school_id": "s1",
        "district": "天河区",
        **fields,
    }


def test_content_counts_teachers_lines_and_the_city_amount() -> None:
    content = billing.bill_content(
        [
            sel("b", "t1"),
            sel("a", "t1", "c2", training_fee_fen=5000),
            sel("c", "t2"),
            sel("d", "t3", status="cancelled"),
            sel("e", "t4", training_fee_fen=0, material_fee_fen=0),
        ]
    )
    assert content.selection_ids == ("a", "b", "c")
    assert content.teacher_count == 2 and content.selection_count == 3
    assert content.amount_fen == 12000 * 2 + 5000  # material fees are not billed for the city programme
    assert content.lines["c1"]["count"] == 2 and content.lines["c2"]["amount_fen"] == 5000
    assert content.district == "天河区"


def test_billed_selections_still_belong_to_the_content() -> None:
    assert billing.is_chargeable(sel("a", "t1", bill_id="b1"))
    assert not billing.is_billable(sel("a", "t1", bill_id="b1"))


def test_same_as_compares_the_stored_bill() -> None:
    content = billing.bill_content([sel("a", "t1")])
    stored = {
        "amount_fen": 12000,
        "selection_ids": ["a"],
        "teacher_count": 1,
        "selection_count": 1,
        "lines": {"c1": {"course_code": "c1", "course_name": "课程c1", "count": 1, "amount_fen": 12000}},
        "programmes": ["city"],
    }
    assert content.same_as(stored)
    assert not content.same_as({**stored, "amount_fen": 0})
    assert not billing.bill_content([sel("a", "t1"), sel("b", "t2")]).same_as(stored)


def test_groups_by_school_and_payee() -> None:
    groups = billing.draft_groups([sel("a", "t1"), sel("b", "t2", payee="区中心"), sel("c", "t3", school_id="s2")])
    assert sorted(groups) == [("s1", "TV"), ("s1", "区中心"), ("s2", "TV")]
    assert sorted(billing.group_by_payee([sel("a", "t1"), sel("b", "t2", payee="区中心")])) == ["TV", "区中心"]


@pytest.mark.parametrize(
    ("amount", "paid", "status", "outstanding", "overpaid"),
    [
        (24000, 0, "unpaid", 24000, 0),
        (24000, 12000, "partially_paid", 12000, 0),  # an addition after payment: the difference is due
        (12000, 24000, "paid", 0, 12000),  # a deletion after payment: the excess shows, stays paid
        (0, 0, "void", 0, 0),  # every selection deleted, nothing paid
        (0, 5000, "paid", 0, 5000),
    ],
)
def test_status_outstanding_and_overpaid(amount: int, paid: int, status: str, outstanding: int, overpaid: int) -> None:
    assert billing.bill_status(amount, paid) == status
    assert billing.outstanding_fen(amount, paid) == outstanding
    assert billing.overpaid_fen(amount, paid) == overpaid


def test_a_void_bill_takes_no_payment() -> None:
    with pytest.raises(billing.PaymentRejected) as caught:
        billing.apply_payment(0, 0, 100)
    assert caught.value.code == "bill_void"


def test_bills_follow_changes_once_the_window_closed_or_bills_were_issued() -> None:
    assert not billing.bills_follow_changes(NOW + timedelta(minutes=1), False, NOW)
    assert billing.bills_follow_changes(NOW, False, NOW)
    assert billing.bills_follow_changes(NOW + timedelta(days=1), True, NOW)  # window re-opened after issuing
    assert not billing.bills_follow_changes(None, False, NOW)
