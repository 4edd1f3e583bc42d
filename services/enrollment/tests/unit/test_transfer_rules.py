"""Transfer rules (教师调动, DOMAIN §1): approver choice, who may decide, refusals, reactivation."""

from __future__ import annotations

from typing import ClassVar

import pytest

from enrollment.domain import transfers as rules


def teacher(**fields: object) -> dict[str, object]:
    return {"_id": "2026000001", "school_id": "s1", "district": "天河区", "special_user": False, **fields}


class TestApprover:
    def test_same_district_is_approved_by_that_district(self) -> None:
        assert rules.approver_for("天河区", "天河区") == rules.Approver(rules.ApproverLevel.DISTRICT, "天河区")

    def test_cross_district_is_approved_by_the_city(self) -> None:
        assert rules.approver_for("天河区", "越秀区") == rules.Approver(rules.ApproverLevel.CITY, None)

    def test_district_admin_decides_only_same_district_transfers_of_its_district(self) -> None:
        own = rules.approver_for("天河区", "天河区")
        assert rules.may_decide({"district_admin"}, "天河区", own)
        assert not rules.may_decide({"district_admin"}, "越秀区", own)
        assert not rules.may_decide({"district_admin"}, "天河区", rules.approver_for("天河区", "越秀区"))

    def test_city_admin_decides_every_transfer(self) -> None:
        assert rules.may_decide({"city_admin"}, None, rules.approver_for("天河区", "越秀区"))
        assert rules.may_decide({"city_admin"}, None, rules.approver_for("天河区", "天河区"))

    @pytest.mark.parametrize("roles", [{"school_admin"}, {"principal"}, {"teacher"}, set()])
    def test_schools_and_teachers_never_decide(self, roles: set[str]) -> None:
        assert not rules.may_decide(roles, "天河区", rules.approver_for("天河区", "天河区"))


class TestRefusals:
    def test_an_ordinary_teacher_can_move(self) -> None:
        assert rules.transfer_refusal(teacher(), "s2", 0) is None

    def test_special_user_is_refused(self) -> None:
        assert rules.transfer_refusal(teacher(special_user=True), "s2", 0) is rules.Refusal.SPECIAL_USER

    def test_unpaid_past_selection_is_refused(self) -> None:
        assert rules.transfer_refusal(teacher(), "s2", 1) is rules.Refusal.UNPAID_SELECTIONS

    def test_moving_to_the_own_school_is_refused(self) -> None:
        assert rules.transfer_refusal(teacher(), "s1", 0) is rules.Refusal.SAME_SCHOOL

    def test_special_user_reason_comes_before_unpaid(self) -> None:
        assert rules.transfer_refusal(teacher(special_user=True), "s2", 3) is rules.Refusal.SPECIAL_USER


class TestUnpaidPast:
    past: ClassVar[set[str]] = {"2601"}

    def selection(self, **fields: object) -> dict[str, object]:
        return {
            "term": "2601",
            "status": "active",
            "paid": False,
            "programme": "city",
            "training_fee_fen": 12000,
            **fields,
        }

    def test_active_unpaid_selection_of_a_past_term_counts(self) -> None:
        assert rules.is_unpaid_past(self.selection(), self.past)
        unset = {k: v for k, v in self.selection().items() if k != "paid"}
        assert rules.is_unpaid_past(unset, self.past)  # paid not set yet

    def test_a_free_selection_never_blocks_a_transfer(self) -> None:
        school_based = self.selection(programme="school", training_fee_fen=0, material_fee_fen=0)
        assert not rules.is_unpaid_past(school_based, self.past)
        assert not rules.is_unpaid_past(self.selection(training_fee_fen=None), self.past)
        assert rules.is_unpaid_past(
            self.selection(programme="district", training_fee_fen=0, material_fee_fen=800), self.past
        )

    def test_paid_cancelled_or_current_term_selections_do_not_count(self) -> None:
        assert not rules.is_unpaid_past(self.selection(paid=True), self.past)
        assert not rules.is_unpaid_past(self.selection(paid=1), self.past)  # how the store returns $set True
        assert not rules.is_unpaid_past(self.selection(status="cancelled"), self.past)
        assert not rules.is_unpaid_past(self.selection(term="2602"), self.past)


def test_only_a_teacher_archived_as_left_is_reactivated_on_arrival() -> None:
    assert rules.reactivates_on_arrival("left")
    assert not rules.reactivates_on_arrival("active")
    assert not rules.reactivates_on_arrival("retired")
    assert not rules.reactivates_on_arrival("other")
