"""Events produced by the studio service (the facts the hours and points banks consume live here)."""

from __future__ import annotations

from jijiao_contracts.envelope import IntegrationEvent

PRODUCER = "studio"


class PointsFactRecorded(IntegrationEvent):
    """A network-research behaviour that earns points under a rule of the points bank (DOMAIN.md §7).

    ``rule`` is one of the points rules: ``shared_resource``, ``discussion_topic``, ``workshop_founded``,
    ``activity_segment_created``, ``excellent_resource``, ``popular_topic``, ``activity_participation``,
    ``assignment_recommended``, ``active_workshop_host``, ``active_workshop_participant``,
    ``workshop_featured_host``, ``workshop_featured_participant``.
    ``reference`` names what the fact is about; the points bank awards once per (teacher, year, rule,
    reference), so the producer picks it to express the rule's uniqueness: the content fingerprint of a
    shared resource (duplicates earn nothing), the workshop id for "featured" (once per workshop), the
    topic id, the activity id, the assignment id for its recommendation (once per assignment), and so on."""

    EVENT_TYPE = "studio.points_fact_recorded"

    fact_id: str
    ce_number: str
    rule: str
    reference: str
    year: int
    studio_id: str | None = None
    detail: str | None = None
    #: What the fact was for, for the teacher's points page (additive): the resource's or topic's title,
    #: and the workshop it happened in.
    title: str | None = None
    workshop_id: str | None = None
    workshop_name: str | None = None


class StudioTrainingRecorded(IntegrationEvent):
    """A studio host's training or a member's offline training took place (工作室线下培训): ``hours``
    professional hours for the teacher, counted against the studio's yearly cap (42 by default)."""

    EVENT_TYPE = "studio.training_recorded"

    record_id: str
    ce_number: str
    year: int
    hours: float
    studio_id: str
    title: str
    role: str | None = None  # "host" or "member"


class StudioApplicationDecided(IntegrationEvent):
    """A host decided a teacher's application to their studio (工作室报名审核): ``decision`` is
    ``admitted`` or ``rejected``; ``role`` is ``member`` or ``student`` (online student)."""

    EVENT_TYPE = "studio.application_decided"

    application_id: str
    ce_number: str
    studio_id: str
    studio_name: str
    role: str
    round: int
    decision: str


class StudioActivityPublished(IntegrationEvent):
    """A studio activity was published; ``recipients`` are the CE numbers of its participants."""

    EVENT_TYPE = "studio.activity_published"

    activity_id: str
    studio_id: str
    studio_name: str
    title: str
    mode: str  # "online" or "offline"
    starts_at: str
    recipients: list[str]


class StudioSummaryDue(IntegrationEvent):
    """An activity has ended and its host has not yet written the summary (活动小结)."""

    EVENT_TYPE = "studio.summary_due"

    activity_id: str
    studio_id: str
    studio_name: str
    title: str
    host_ce_number: str


class StudioMemberEvaluated(IntegrationEvent):
    """A member's evaluation of a year or of the cycle (``period`` is the year or ``cycle``)."""

    EVENT_TYPE = "studio.member_evaluated"

    evaluation_id: str
    ce_number: str
    studio_id: str
    studio_name: str
    period: str
    grade: str


class StudioActivityAnnounced(IntegrationEvent):
    """One participant is told of a published activity (one event per recipient, for notices)."""

    EVENT_TYPE = "studio.activity_announced"

    activity_id: str
    ce_number: str
    studio_id: str
    studio_name: str
    title: str
    mode: str
    starts_at: str
