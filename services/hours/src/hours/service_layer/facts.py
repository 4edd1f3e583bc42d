"""What an incoming event means to the hours bank: one translation for the one-at-a-time handlers and
the batched consumer alike."""

from __future__ import annotations

from typing import Any

from hours.service_layer.crediting import HourFact
from jijiao_contracts import Envelope
from jijiao_contracts.events.enrollment import ResultRegistered, TeacherChanged, TeacherRegistered, TeacherTransferred


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
        result_id=event.result_id,
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
