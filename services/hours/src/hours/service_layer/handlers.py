"""Event handlers of the hours service (idempotent: keyed on the teacher and the event's time)."""

from __future__ import annotations

from hours.adapters.repositories import HoursAccounts
from jijiao_contracts import Envelope
from jijiao_contracts.events.enrollment import TeacherRegistered
from jijiao_kit.consuming import EventDispatcher


def register_handlers(dispatcher: EventDispatcher, accounts: HoursAccounts) -> None:
    @dispatcher.handles(TeacherRegistered, name="hours.open_account")
    async def open_account(event: TeacherRegistered, envelope: Envelope) -> None:
        await accounts.open(
            event.ce_number,
            {
                "name": event.name,
                "school_id": event.school_id,
                "district": event.district,
                "opened_at": envelope.occurred_at,
            },
            envelope.occurred_at,
        )
