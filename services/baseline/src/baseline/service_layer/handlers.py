"""Event handlers of baseline."""

from __future__ import annotations

from baseline.adapters.directory import TeacherDirectory
from jijiao_contracts import Envelope
from jijiao_contracts.events.enrollment import TeacherRegistered
from jijiao_kit.consuming import EventDispatcher


def register_handlers(dispatcher: EventDispatcher, directory: TeacherDirectory) -> None:
    @dispatcher.handles(TeacherRegistered, name="baseline.directory_add_teacher")
    async def add_teacher(event: TeacherRegistered, envelope: Envelope) -> None:
        fields = event.model_dump(include={"name", "school_id", "school_name", "district", "subject", "stage", "title"})
        await directory.record(event.ce_number, fields, envelope.occurred_at)
