import pytest

from enrollment.domain.selection_projects import Reviewer, decision_refusal, next_status


def test_reviews_go_school_district_institution() -> None:
    assert decision_refusal("applied", {Reviewer.SCHOOL}) is None
    assert decision_refusal("applied", {Reviewer.DISTRICT, Reviewer.INSTITUTION}) == "not_your_review_step"
    assert decision_refusal("school_approved", {Reviewer.DISTRICT}) is None
    assert decision_refusal("school_approved", {Reviewer.SCHOOL}) == "not_your_review_step"
    assert decision_refusal("district_approved", {Reviewer.INSTITUTION}) is None
    assert decision_refusal("district_approved", {Reviewer.SCHOOL, Reviewer.DISTRICT}) == "not_your_review_step"


@pytest.mark.parametrize("status", ["admitted", "rejected", "withdrawn"])
def test_decided_applications_stay_decided(status: str) -> None:
    assert decision_refusal(status, set(Reviewer)) == "application_decided"


def test_next_status() -> None:
    assert next_status("applied", True) == "school_approved"
    assert next_status("school_approved", True) == "district_approved"
    assert next_status("district_approved", True) == "admitted"
    for status in ("applied", "school_approved", "district_approved"):
        assert next_status(status, False) == "rejected"
