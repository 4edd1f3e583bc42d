"""Event handlers of notify: the contact book, the facts reminders need, and one notice per route.

Each effect is keyed on the event: contacts and term/balance copies move forward in ``occurred_at``
only (``upsert_newer``; parts of a contact that different events change, each on a stamp of its own);
notices are keyed by cause event id + recipient + channel."""

from __future__ import annotations

from jijiao_contracts import Envelope, IntegrationEvent
from jijiao_contracts.enums import Role
from jijiao_contracts.events import enrollment as en
from jijiao_kit.consuming import EventDispatcher
from notify.adapters.repositories import Contacts, Terms

#: The teacher events the contact book follows, by handler name (the inbox keys on the names).
TEACHER_CONTACT_HANDLERS: dict[type[IntegrationEvent], str] = {
    en.TeacherRegistered: "notify.contact_from_teacher",
    en.TeacherChanged: "notify.contact_teacher_changed",
    en.TeacherTransferred: "notify.contact_teacher_transferred",
    en.TeacherArchived: "notify.contact_teacher_archived",
}


def register_fact_handlers(dispatcher: EventDispatcher, contacts: Contacts, terms: Terms) -> None:
    """The contact book and the facts reminders need (low volume: one event at a time, with the inbox)."""

    # A teacher's contact is the kit's teacher directory inside the contact book: its profile (name,
    # mobile, email: registration and change), school (school, district: registration, change, transfer)
    # and status (``active``: registration and archiving, whose status "active" is a reactivation, also
    # the one a transfer of a teacher who had left brings; a retired one stays retired) are each ordered
    # on a stamp of their own. One stamp for the whole contact let a later event handled first hide an
    # earlier one (the consumer does not keep publish order): a registration handled after a change was
    # dropped, so the teacher never became active. Each event writes only its own parts, so any order
    # ends in the same contact; the address is written before the status.
    async def teacher_contact(event: object, envelope: Envelope) -> None:
        await contacts.teachers.apply(envelope)

    for event_class, name in TEACHER_CONTACT_HANDLERS.items():
        dispatcher.handles(event_class, name=name)(teacher_contact)

    # An administrator's contact has three parts that change on their own, each ordered on a stamp of
    # its own: the account (registration), the profile (name, email: AdminChanged) and the bound mobile
    # (AdminPhoneRebound). One stamp for the whole contact let whichever event was handled last (the
    # consumer does not keep publish order) hide the others: a re-binding lost to a later profile edit
    # would send codes to the old number. Mobile and profile are written first, so an admin contact
    # never shows up in an audience without its address.
    @dispatcher.handles(en.AdminRegistered, name="notify.contact_from_admin")
    async def admin_registered(event: en.AdminRegistered, envelope: Envelope) -> None:
        await contacts.upsert_part(event.subject, "mobile", {"mobile": event.mobile}, envelope.occurred_at)
        await contacts.upsert_part(
            event.subject, "profile", {"name": event.name, "email": event.email}, envelope.occurred_at
        )
        await contacts.upsert(
            event.subject,
            {
                "kind": "admin",
                "username": event.username,
                "roles": list(event.roles),
                "school_id": event.school_id,
                "district": event.district,
                "is_school_admin": bool({Role.SCHOOL_ADMIN.value, Role.PRINCIPAL.value} & set(event.roles)),
                "active": True,
            },
            envelope.occurred_at,
        )

    @dispatcher.handles(en.AdminChanged, name="notify.contact_admin_changed")
    async def admin_changed(event: en.AdminChanged, envelope: Envelope) -> None:
        # name and email only: the bound mobile changes by re-binding alone
        await contacts.upsert_part(
            event.subject, "profile", {"name": event.name, "email": event.email}, envelope.occurred_at
        )

    @dispatcher.handles(en.AdminPhoneRebound, name="notify.contact_phone_rebound")
    async def phone_rebound(event: en.AdminPhoneRebound, envelope: Envelope) -> None:
        await contacts.upsert_part(event.subject, "mobile", {"mobile": event.mobile}, envelope.occurred_at)

    # Special users cannot select (§1), so selection-window reminders skip them. The flag is a part of
    # its own (not held back by, nor holding back, the teacher's other changes). These events also have
    # notice routes (ROUTES); the fact handlers have names of their own, so both run once per event.
    @dispatcher.handles(en.SpecialUserFlagged, name="notify.contact_special_user_flagged")
    async def special_user_flagged(event: en.SpecialUserFlagged, envelope: Envelope) -> None:
        await contacts.upsert_part(f"teacher:{event.ce_number}", "special", {"special": True}, envelope.occurred_at)

    @dispatcher.handles(en.SpecialUserCleared, name="notify.contact_special_user_cleared")
    async def special_user_cleared(event: en.SpecialUserCleared, envelope: Envelope) -> None:
        await contacts.upsert_part(f"teacher:{event.ce_number}", "special", {"special": False}, envelope.occurred_at)

    @dispatcher.handles(en.TermScheduled, name="notify.term_scheduled")
    async def term_scheduled(event: en.TermScheduled, envelope: Envelope) -> None:
        await terms.upsert(
            event.term,
            {
                "term": event.term,
                "year": event.year,
                "opens_at": event.selection_opens_at,
                "closes_at": event.selection_closes_at,
                "payment_due_at": event.payment_due_at,
            },
            envelope.occurred_at,
        )
