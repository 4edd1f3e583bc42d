"""Event handlers of baseline: the teacher directory follows every roster event of enrollment."""

from __future__ import annotations

from baseline.adapters.directory import TeacherDirectory
from jijiao_contracts import Envelope, IntegrationEvent
from jijiao_contracts.events.enrollment import TeacherArchived, TeacherChanged, TeacherRegistered, TeacherTransferred
from jijiao_kit.consuming import EventDispatcher

#: Handler names (the inbox keys on them; the registration's name is the one it always had).
DIRECTORY_HANDLERS: dict[type[IntegrationEvent], str] = {
    TeacherRegistered: "baseline.directory_add_teacher",
    TeacherChanged: "baseline.directory_teacher_changed",
    TeacherTransferred: "baseline.directory_teacher_transferred",
    TeacherArchived: "baseline.directory_teacher_archived",
}


def register_handlers(dispatcher: EventDispatcher, directory: TeacherDirectory) -> None:
    async def copy_teacher(event: object, envelope: Envelope) -> None:
        await directory.apply(envelope)

    for event_class, name in DIRECTORY_HANDLERS.items():
        dispatcher.handles(event_class, name=name)(copy_teacher)
