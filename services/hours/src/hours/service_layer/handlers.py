"""Event handlers of the hours service. Each effect is keyed on the fact it comes from (result id,
fact id, redemption id, declaration id), so redeliveries and reorderings never count twice."""

from __future__ import annotations

import logging

from hours.adapters.repositories import Teachers
from hours.service_layer.corrections import ResultCorrections
from hours.service_layer.crediting import HourFact, HoursBank
from hours.service_layer.declarations import Declarations
from hours.service_layer.facts import roster_change
from hours.service_layer.points import PointsBank
from jijiao_contracts import Envelope
from jijiao_contracts.enums import HourCategory
from jijiao_contracts.events.enrollment import ResultRegistered, TeacherChanged, TeacherRegistered, TeacherTransferred
from jijiao_contracts.events.hours import DeclarationReviewed, PointsRedeemed
from jijiao_contracts.events.studio import PointsFactRecorded, StudioTrainingRecorded
from jijiao_kit.consuming import EventDispatcher
from jijiao_kit.errors import InvalidInput

logger = logging.getLogger(__name__)


def register_handlers(
    dispatcher: EventDispatcher, teachers: Teachers, bank: HoursBank, points: PointsBank, declarations: Declarations
) -> None:
    @dispatcher.handles(TeacherRegistered, name="hours.teacher_registered")
    @dispatcher.handles(TeacherChanged, name="hours.teacher_changed")
    @dispatcher.handles(TeacherTransferred, name="hours.teacher_transferred")
    async def roster_event(event: object, envelope: Envelope) -> None:
        ce_number, fields = roster_change(envelope)
        await teachers.upsert(ce_number, fields, envelope.occurred_at)

    corrections = ResultCorrections(bank)

    @dispatcher.handles(ResultRegistered, name="hours.result_registered")
    async def result_registered(event: ResultRegistered, envelope: Envelope) -> None:
        """A pass credits the course's hours; a later registration of the same result as failed takes
        them back, passed again credits them again (ordered by the result's revision)."""
        try:
            await corrections.apply(event, envelope)
        except InvalidInput as exc:  # a fact the rules refuse can never succeed: record why, do not loop
            logger.warning("result %s not credited: %s", event.result_id, exc.detail)

    @dispatcher.handles(StudioTrainingRecorded, name="hours.studio_training")
    async def studio_training(event: StudioTrainingRecorded, envelope: Envelope) -> None:
        teacher = await teachers.get(event.ce_number) or {}
        await bank.credit(
            HourFact(
                source_key=f"studio_training:{event.record_id}",
                ce_number=event.ce_number,
                year=event.year,
                source="studio",
                category=HourCategory.PROFESSIONAL,
                hours=event.hours,
                reference={
                    "kind": "studio_training",
                    "id": event.record_id,
                    "studio_id": event.studio_id,
                    "title": event.title,
                    "event_id": envelope.event_id,
                },
                registered_by=envelope.actor.subject if envelope.actor else "studio",
                school_id=teacher.get("school_id"),
                district=teacher.get("district"),
            )
        )

    @dispatcher.handles(PointsFactRecorded, name="hours.points_fact")
    async def points_fact(event: PointsFactRecorded, envelope: Envelope) -> None:
        try:
            await points.award(
                ce_number=event.ce_number,
                year=event.year,
                rule=event.rule,
                reference=event.reference,
                source=f"studio:{event.fact_id}",
                occurred_at=envelope.occurred_at,
                about={"title": event.title, "workshop_id": event.workshop_id, "workshop_name": event.workshop_name},
            )
        except InvalidInput as exc:
            logger.warning("points fact %s ignored: %s", event.fact_id, exc.detail)

    @dispatcher.handles(PointsRedeemed, name="hours.redemption_credit")
    async def redemption_credit(event: PointsRedeemed, envelope: Envelope) -> None:
        """Safety net: the API credits right after the redemption; if it died in between, this does."""
        if event.redemption_id is None:
            return
        redemption = {
            "id": event.redemption_id,
            "category": event.category.value,
            "hours": event.hours,
            "points": event.points,
        }
        by = envelope.actor.subject if envelope.actor else "system"
        await points.credit_redemption(event.ce_number, event.year, redemption, by)

    @dispatcher.handles(DeclarationReviewed, name="hours.declaration_credit")
    async def declaration_credit(event: DeclarationReviewed, envelope: Envelope) -> None:
        """Safety net for final approvals (the API credits at once)."""
        if event.level == "final" and event.decision == "approved":
            await declarations.credit_approved(event.declaration_id)
