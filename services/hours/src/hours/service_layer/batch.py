"""Applying a batch of consumed events: the high-volume ones with bulk writes, the rest one by one
through the dispatcher (with the kit's inbox). Every effect is keyed on its fact, as in the handlers."""

from __future__ import annotations

import logging
from typing import Any

from hours.adapters.repositories import Teachers
from hours.service_layer.crediting import BatchCrediting, HourFact
from hours.service_layer.points import BatchAwards
from jijiao_contracts import Envelope
from jijiao_contracts.events.enrollment import ResultRegistered, TeacherChanged, TeacherRegistered, TeacherTransferred
from jijiao_contracts.events.studio import PointsFactRecorded
from jijiao_kit.consuming import EventDispatcher, Inbox

logger = logging.getLogger(__name__)

ROSTER = {TeacherRegistered.routing_key(), TeacherChanged.routing_key(), TeacherTransferred.routing_key()}


def result_fact(event: ResultRegistered, envelope: Envelope) -> HourFact:
    return HourFact(
        source_key=f"result:{event.result_id}",
        ce_number=event.ce_number,
        year=event.year,
        source=event.source,
        category=event.category,
        hours=event.hours,
        reference={
            "kind": "result",
            "id": event.result_id,
            "event_id": envelope.event_id,
            "term": event.term,
            "course_code": event.course_code,
            "course_name": event.course_name,
        },
        registered_by=event.registered_by,
        school_id=event.school_id,
        district=event.district,
    )


def roster_change(envelope: Envelope) -> tuple[str, dict[str, Any]]:
    if envelope.routing_key == TeacherTransferred.routing_key():
        moved = envelope.payload_as(TeacherTransferred)
        return moved.ce_number, {
            "school_id": moved.to_school_id,
            "school_name": moved.to_school_name,
            "district": moved.to_district,
        }
    teacher: TeacherRegistered | TeacherChanged = (
        envelope.payload_as(TeacherRegistered)
        if envelope.routing_key == TeacherRegistered.routing_key()
        else envelope.payload_as(TeacherChanged)
    )
    return teacher.ce_number, {
        "name": teacher.name,
        "school_id": teacher.school_id,
        "school_name": teacher.school_name,
        "district": teacher.district,
    }


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
                ce_number, fields = roster_change(envelope)
                roster.append((ce_number, fields, envelope.occurred_at))
            elif key == ResultRegistered.routing_key():
                result = envelope.payload_as(ResultRegistered)
                if result.passed:
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
                    }
                )
            else:
                others.append(envelope)
        if roster:
            await self.teachers.upsert_many(roster)
        if facts:
            await self.crediting.credit_many(facts)
        if points:
            await self.awards.award_many(points)
        for envelope in others:
            await dispatcher.dispatch(envelope, inbox)
