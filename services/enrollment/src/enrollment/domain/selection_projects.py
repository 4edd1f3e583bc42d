"""Special projects (专项培训, DOMAIN §2): the teacher applies online; the principal (or the school's
admin), then the district, then the training institution review; an admitted teacher gets the
selection. Pure rules: who reviews at which step, and where a decision leads."""

from __future__ import annotations

from enum import StrEnum


class Reviewer(StrEnum):
    SCHOOL = "school"  # 校长 / school admin of the teacher's school
    DISTRICT = "district"  # the teacher's district admin
    INSTITUTION = "institution"  # the course's training institution


#: status -> (who decides now, status after approval)
STEPS: dict[str, tuple[Reviewer, str]] = {
    "applied": (Reviewer.SCHOOL, "school_approved"),
    "school_approved": (Reviewer.DISTRICT, "district_approved"),
    "district_approved": (Reviewer.INSTITUTION, "admitted"),
}
FINAL = ("admitted", "rejected", "withdrawn")


def decision_refusal(status: str, reviewers: set[Reviewer]) -> str | None:
    """Why this caller cannot decide now (None: they can)."""
    if status in FINAL:
        return "application_decided"
    step = STEPS.get(status)
    if step is None or step[0] not in reviewers:
        return "not_your_review_step"
    return None


def next_status(status: str, approve: bool) -> str:
    """Approval moves one step on; any rejection ends the application."""
    return STEPS[status][1] if approve else "rejected"
