"""Event handlers of notify."""

from __future__ import annotations

from jijiao_contracts import Envelope
from jijiao_contracts.events.enrollment import TeacherRegistered
from jijiao_kit.consuming import EventDispatcher
from notify.adapters.repositories import Contacts
from notify.domain.templates import WELCOME_TEACHER
from notify.service_layer.delivery import Delivery


def register_handlers(dispatcher: EventDispatcher, contacts: Contacts, delivery: Delivery) -> None:
    @dispatcher.handles(TeacherRegistered, name="notify.contact_from_teacher")
    async def store_contact(event: TeacherRegistered, envelope: Envelope) -> None:
        await contacts.upsert(
            f"teacher:{event.ce_number}",
            {
                "kind": "teacher",
                "ce_number": event.ce_number,
                "name": event.name,
                "mobile": event.mobile,
                "email": event.email,
                "school_id": event.school_id,
                "school_name": event.school_name,
                "district": event.district,
            },
            envelope.occurred_at,
        )

    @dispatcher.handles(TeacherRegistered, name="notify.welcome_teacher")
    async def welcome(event: TeacherRegistered, envelope: Envelope) -> None:
        if not event.mobile:
            return
        await delivery.send_sms(
            event_id=envelope.event_id,
            to=event.mobile,
            template=WELCOME_TEACHER,
            values={"name": event.name, "school_name": event.school_name, "ce_number": event.ce_number},
        )
