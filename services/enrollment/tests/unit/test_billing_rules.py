"""The §3 amount rule, bill grouping, payment application and money conversion."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from enrollment.domain import billing


def sel(**fields: Any) -> dict[str, Any]:
    base = {
        "_id": "x",
        "term": "2602",
        "ce_number": "1",
        "school_id": "s1",
        "payee": "广州市广播电视大学",
        "programme": "city",
        "hour_type": "professional",
        "course_type": "remote",
        "training_fee_fen": 12000,
        "material_fee_fen": 3000,
        "status": "active",
    }
    return {**base, **fields}


def test_city_remote_course_is_billed_its_training_fee() -> None:
    assert billing.due_fen(sel()) == 12000


def test_city_face_to_face_course_is_billed_its_training_fee() -> None:
    assert billing.due_fen(sel(course_type="face_to_face", training_fee_fen=20000, material_fee_fen=5000)) == 20000


def test_city_public_course_material_fee_is_excluded() -> None:
    assert billing.due_fen(sel(hour_type="public", training_fee_fen=5000, material_fee_fen=2000)) == 5000


def test_city_public_course_without_material_fee() -> None:
    assert billing.due_fen(sel(hour_type="public", training_fee_fen=5000, material_fee_fen=0)) == 5000


def test_ability_project_follows_the_city_rule() -> None:
    assert billing.due_fen(sel(programme="ability", hour_type="public", material_fee_fen=900)) == 12000
    assert billing.due_fen(sel(programme="ability", hour_type="professional", material_fee_fen=900)) == 12000


@pytest.mark.parametrize("programme", ["district", "special", "school"])
@pytest.mark.parametrize("hour_type", ["public", "professional", "elective"])
def test_other_programmes_bill_training_plus_material(programme: str, hour_type: str) -> None:
    assert billing.due_fen(sel(programme=programme, hour_type=hour_type)) == 15000


def test_missing_fees_count_as_zero() -> None:
    assert billing.due_fen({"programme": "city"}) == 0


def test_billable_excludes_cancelled_free_and_already_billed() -> None:
    assert billing.is_billable(sel())
    assert not billing.is_billable(sel(status="cancelled"))
    assert not billing.is_billable(sel(training_fee_fen=0, material_fee_fen=0))
    assert not billing.is_billable(sel(bill_id="b1"))


def test_city_school_total_for_a_mixed_selection_list() -> None:
    """One teacher: remote 120 (+30 material), face-to-face 200 (+50), public 50 (+20): the training
    fees of the three kinds, 120 + 200 + 50 = 370 yuan; no material fee is billed by the city."""
    selections = [
        sel(_id="a"),
        sel(_id="b", course_type="face_to_face", training_fee_fen=20000, material_fee_fen=5000),
        sel(_id="c", hour_type="public", training_fee_fen=5000, material_fee_fen=2000),
    ]
    [draft] = billing.draft_bills("2602", selections)
    assert draft.amount_fen == 37000 and draft.teacher_count == 1 and draft.selection_ids == ("a", "b", "c")


def test_drafts_group_by_school_and_payee_and_skip_other_terms() -> None:
    selections = [
        sel(_id="1", ce_number="t1"),
        sel(_id="2", ce_number="t2"),
        sel(_id="3", ce_number="t3", school_id="s2"),
        sel(_id="4", ce_number="t1", programme="district", payee="区中心"),
        sel(_id="5", ce_number="t1", term="2601"),
        sel(_id="6", ce_number="t4", status="cancelled"),
    ]
    drafts = {(d.school_id, d.payee): d for d in billing.draft_bills("2602", selections)}
    assert set(drafts) == {("s1", "广州市广播电视大学"), ("s2", "广州市广播电视大学"), ("s1", "区中心")}
    assert drafts[("s1", "广州市广播电视大学")].amount_fen == 24000
    assert drafts[("s1", "区中心")].amount_fen == 15000
    assert drafts[("s1", "广州市广播电视大学")].teacher_count == 2
    assert drafts[("s1", "区中心")].programmes == ("district",)


def test_bill_id_is_deterministic_per_term_school_payee() -> None:
    assert billing.bill_id("2602", "s1", "p") == billing.bill_id("2602", "s1", "p")
    assert billing.bill_id("2602", "s1", "p") != billing.bill_id("2602", "s1", "q")
    assert billing.bill_id("2602", "s1", "p") != billing.bill_id("2601", "s1", "p")


def test_partial_and_full_payments() -> None:
    partial = billing.apply_payment(40000, 0, 15050)
    assert partial == billing.PaymentOutcome(paid_fen=15050, status="partially_paid", paid_in_full=False)
    full = billing.apply_payment(40000, 15050, 24950)
    assert full == billing.PaymentOutcome(paid_fen=40000, status="paid", paid_in_full=True)


@pytest.mark.parametrize(
    ("amount", "paid", "payment", "code"),
    [
        (40000, 0, 0, "invalid_amount"),
        (40000, 0, -1, "invalid_amount"),
        (40000, 40000, 1, "bill_already_paid"),
        (40000, 39000, 1001, "payment_exceeds_due"),
    ],
)
def test_refused_payments(amount: int, paid: int, payment: int, code: str) -> None:
    with pytest.raises(billing.PaymentRejected) as info:
        billing.apply_payment(amount, paid, payment)
    assert info.value.code == code


def test_bill_status() -> None:
    assert billing.bill_status(100, 0) == "unpaid"
    assert billing.bill_status(100, 50) == "partially_paid"
    assert billing.bill_status(100, 100) == "paid"


def test_money_conversion() -> None:
    assert billing.fen_to_yuan(12345) == Decimal("123.45")
    assert billing.yuan_to_fen(Decimal("123.45")) == 12345
    assert billing.yuan_to_fen(Decimal("7")) == 700
    with pytest.raises(ValueError):
        billing.yuan_to_fen(Decimal("1.005"))


def test_payment_key_is_safe_for_map_paths() -> None:
    key = billing.payment_key("a.b$c")
    assert "." not in key and "$" not in key and key == billing.payment_key("a.b$c")


@pytest.mark.parametrize(
    ("fen", "words"),
    [
        (0, "零元整"),
        (40000, "肆佰元整"),
        (12345, "壹佰贰拾叁元肆角伍分"),
        (105, "壹元零伍分"),
        (1000100, "壹万零壹元整"),
        (1010000, "壹万零壹佰元整"),
        (150000, "壹仟伍佰元整"),
        (10000000000, "壹亿元整"),
    ],
)
def test_amount_in_words(fen: int, words: str) -> None:
    assert billing.amount_in_words(fen) == words
