"""Applying a batch of consumed events: the high-volume ones with bulk writes (roster events and studio
points facts only here; first results here, corrections through the dispatcher), the rest one by one
through the dispatcher (with the kit's inbox). Every effect is keyed on its fact, as in the handlers."""

from __future__ import annotations

import logging

from hours.adapters.repositories import Teachers
from hours.service_layer.crediting import BatchCrediting
from hours.service_layer.facts import result_fact
from hours.service_layer.points import BatchAwards
from jijiao_contracts import Envelope
from jijiao_contracts.events.enrollment import ResultRegistered
from jijiao_contracts.events.studio import PointsFactRecorded
from jijiao_kit.consuming import EventDispatcher, Inbox

logger = logging.getLogger(__name__)

ROSTER = set(Teachers.routing_keys())
#: Applied here in bulk only (no dispatcher handler); first results too, corrections go to the dispatcher.
BULK_ONLY = ROSTER | {PointsFactRecorded.routing_key()}


class BatchHandlers:
    def __init__(self, teachers: Teachers, crediting: BatchCrediting, awards: BatchAwards) -> None:
        self.teachers = teachers
        self.crediting = crediting
        self.awards = awards

    async def handle(self, envelopes: list[Envelope], dispatcher: EventDispatcher, inbox: Inbox) -> None:
        roster, facts, points, others = [], [], [], []
        for envelope in envelopes:
            key = envelope.routing_key
            if key in ROSTER:
                roster.append(envelope)
            elif key == ResultRegistered.routing_key():
                result = envelope.payload_as(ResultRegistered)
                if result.revision > 1:  # a correction: the one-at-a-time path orders it (corrections.py)
                    others.append(envelope)
                elif result.passed:
                    facts.append(result_fact(result, envelope))
            elif key == PointsFactRecorded.routing_key():
                fact = envelope.payload_as(PointsFactRecorded)
                points.append(
                    {
                        "ce_number": fact.ce_number,
                        "year": fact.year,
                        "rule": fact.rule,
                        "reference": fact.reference,
                        "source": f"studio:{fact.fact_id}",
                        "occurred_at": envelope.occurred_at,
                        "about": {
                            "title": fact.title,
                            "workshop_id": fact.workshop_id,
                            "workshop_name": fact.workshop_name,
                        },
                    }
                )
            else:
                others.append(envelope)
        if roster:
            await self.teachers.apply_many(roster)
        if facts:
            await self.crediting.credit_many(facts)
        if points:
            await self.awards.award_many(points)
        for envelope in others:
            await dispatcher.dispatch(envelope, inbox)
