"""What an incoming event means to the hours bank: one translation for the one-at-a-time handlers and
the batched consumer alike."""

from __future__ import annotations

from hours.service_layer.crediting import HourFact
from jijiao_contracts import Envelope
from jijiao_contracts.events.enrollment import ResultRegistered


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
