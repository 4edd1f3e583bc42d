"""Events produced by the baseline service (the national research-base programme, DOMAIN.md §10)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from jijiao_contracts.envelope import IntegrationEvent

PRODUCER = "baseline"


class ZoneContactAppointed(IntegrationEvent):
    """A zone (实验区) was created or got a new contact: enrollment gives the contact a login
    (role ``zone_contact``, scope ``zone_id``) and sends the credentials to ``contact_mobile``."""

    EVENT_TYPE = "baseline.zone_contact_appointed"

    zone_id: str
    zone_name: str
    contact_name: str
    contact_mobile: str
    contact_email: str | None = None


class DemandSubmitted(IntegrationEvent):
    """A zone contact submitted a demand (研修学习需求); ``sequence`` is the submission order of the year."""

    EVENT_TYPE = "baseline.demand_submitted"

    demand_id: str
    year: str
    zone_id: str
    stage: str
    places: int
    demand_type: str
    sequence: int


class BatchAllocated(IntegrationEvent):
    """The centre allocated a batch (base, stage, dates) to a zone; the zone contact is told by SMS and email."""

    EVENT_TYPE = "baseline.batch_allocated"

    batch_id: str
    year: str
    zone_id: str
    zone_name: str
    base_name: str
    stage: str
    starts_on: str  # ISO date of the stay's first day
    ends_on: str
    places: int
    personnel_deadline: str  # ISO 8601 instant
    contact_name: str
    contact_mobile: str
    contact_email: str | None = None


class ConfirmedTrainee(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    trainee_id: str
    name: str
    mobile: str
    email: str | None = None
    role: str  # "member" or "leader" (团长)


class TraineesConfirmed(IntegrationEvent):
    """A zone contact confirmed the trainees of an allocated batch (final): enrollment gives each a
    login (role ``trainee``, scopes ``trainee_id``/``batch_id``/``zone_id``) and sends the credentials."""

    EVENT_TYPE = "baseline.trainees_confirmed"

    batch_id: str
    year: str
    zone_id: str
    base_name: str
    starts_on: str
    ends_on: str
    report_deadline: str  # ISO 8601 instant
    trainees: list[ConfirmedTrainee]


class TraineeCheckedIn(IntegrationEvent):
    EVENT_TYPE = "baseline.trainee_checked_in"

    trainee_id: str
    batch_id: str
    zone_id: str
    year: str


class OutcomeReminderDue(IntegrationEvent):
    """A trainee has not uploaded the outcome report and its three-month window ends soon (SMS)."""

    EVENT_TYPE = "baseline.outcome_reminder_due"

    trainee_id: str
    batch_id: str
    zone_id: str
    name: str
    mobile: str
    due_on: str  # ISO date


class OutcomeOverdue(IntegrationEvent):
    EVENT_TYPE = "baseline.outcome_overdue"

    trainee_id: str
    batch_id: str
    zone_id: str
    due_on: str


class ZoneRewarded(IntegrationEvent):
    """The centre rewarded a zone at the end of ``year``: its quota of ``next_year`` grows by 2 batches."""

    EVENT_TYPE = "baseline.zone_rewarded"

    zone_id: str
    year: str
    next_year: str
    extra_batches: int


class TraineeWithdrawn(IntegrationEvent):
    """The centre removed a trainee from a confirmed list: enrollment closes the trainee's login."""

    EVENT_TYPE = "baseline.trainee_withdrawn"

    trainee_id: str
    batch_id: str
    zone_id: str


class TraineeChanged(IntegrationEvent):
    """The centre changed the name, mobile or email of a trainee of a confirmed list: enrollment moves
    the trainee's login to the new details. A new mobile gets a new initial secret by SMS (the old
    secret stops working and earlier tokens are revoked), as a zone's new contact does.

    ``version`` is the version of the zone's list in the batch after the change (it only grows): a
    login applies a change only when it is newer than the last it applied, so redelivered or reordered
    events never undo a later change. The other fields are the trainee as stored after the change."""

    EVENT_TYPE = "baseline.trainee_changed"

    trainee_id: str
    batch_id: str
    zone_id: str
    year: str
    name: str
    mobile: str
    email: str | None = None
    role: str  # "member" or "leader" (团长)
    report_deadline: str  # ISO 8601 instant
    version: int
