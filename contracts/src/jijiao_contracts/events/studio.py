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
    topic id, the activity id, the assignment id plus the recommendation id, and so on."""

    EVENT_TYPE = "studio.points_fact_recorded"

    fact_id: str
    ce_number: str
    rule: str
    reference: str
    year: int
    studio_id: str | None = None
    detail: str | None = None


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
