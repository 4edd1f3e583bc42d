"""Event handlers of notify: the contact book, the facts reminders need, and one notice per route.

Each effect is keyed on the event: contacts and term/balance copies move forward in ``occurred_at``
only (``upsert_newer``; parts of a contact that different events change, each on a stamp of its own);
notices are keyed by cause event id + recipient + channel."""

from __future__ import annotations

from typing import Any

from jijiao_contracts import Envelope
from jijiao_contracts.enums import Role
from jijiao_contracts.events import enrollment as en
from jijiao_kit.consuming import EventDispatcher
from notify.adapters.repositories import Contacts, Terms


def _teacher(ce_number: str) -> dict[str, Any]:
    """What every teacher event writes along with its part (the same values every time)."""
    return {"kind": "teacher", "ce_number": ce_number}


def _teacher_profile(event: en.TeacherRegistered | en.TeacherChanged) -> dict[str, Any]:
    return {**_teacher(event.ce_number), "name": event.name, "mobile": event.mobile, "email": event.email}


def _teacher_school(event: en.TeacherRegistered | en.TeacherChanged) -> dict[str, Any]:
    return {
        **_teacher(event.ce_number),
        "school_id": event.school_id,
        "school_name": event.school_name,
        "district": event.district,
    }


def register_fact_handlers(dispatcher: EventDispatcher, contacts: Contacts, terms: Terms) -> None:
    """The contact book and the facts reminders need (low volume: one event at a time, with the inbox)."""

    # A teacher's contact has parts that different events change, each ordered on a stamp of its own:
    # the profile (name, mobile, email: registration and change), the school (school, district:
    # registration, change and transfer) and the status (``active``: registration and archiving, whose
    # status "active" is a reactivation, also the one a transfer of a teacher who had left brings). One
    # stamp for the whole contact let a later event handled first hide an earlier one (the consumer does
    # not keep publish order): a registration handled after a change was dropped, so the teacher never
    # became active. Each event writes only its own parts, so any order ends in the same contact. The
    # address is written before the status, so an active teacher never lacks the address its event had.
    @dispatcher.handles(en.TeacherRegistered, name="notify.contact_from_teacher")
    async def teacher_registered(event: en.TeacherRegistered, envelope: Envelope) -> None:
        key = f"teacher:{event.ce_number}"
        await contacts.upsert_part(key, "profile", _teacher_profile(event), envelope.occurred_at)
        await contacts.upsert_part(key, "school", _teacher_school(event), envelope.occurred_at)
        await contacts.upsert_part(key, "status", {**_teacher(event.ce_number), "active": True}, envelope.occurred_at)

    @dispatcher.handles(en.TeacherChanged, name="notify.contact_teacher_changed")
    async def teacher_changed(event: en.TeacherChanged, envelope: Envelope) -> None:
        key = f"teacher:{event.ce_number}"
        await contacts.upsert_part(key, "profile", _teacher_profile(event), envelope.occurred_at)
        await contacts.upsert_part(key, "school", _teacher_school(event), envelope.occurred_at)

    @dispatcher.handles(en.TeacherTransferred, name="notify.contact_teacher_transferred")
    async def teacher_transferred(event: en.TeacherTransferred, envelope: Envelope) -> None:
        # the school only: a teacher who had left is reactivated by a TeacherArchived(status="active")
        # of the same move; a retired one stays retired
        await contacts.upsert_part(
            f"teacher:{event.ce_number}",
            "school",
            {
                **_teacher(event.ce_number),
                "school_id": event.to_school_id,
                "school_name": event.to_school_name,
                "district": event.to_district,
            },
            envelope.occurred_at,
        )

    @dispatcher.handles(en.TeacherArchived, name="notify.contact_teacher_archived")
    async def teacher_archived(event: en.TeacherArchived, envelope: Envelope) -> None:
        await contacts.upsert_part(
            f"teacher:{event.ce_number}",
            "status",
            {**_teacher(event.ce_number), "active": event.status == "active"},
            envelope.occurred_at,
        )

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
