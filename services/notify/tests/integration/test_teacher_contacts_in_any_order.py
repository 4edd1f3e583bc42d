"""A teacher's contact (the kit's teacher directory inside notify's contact book): the same roster
events in any order give the same contact, with the address and status the newest events carry."""

from __future__ import annotations

from typing import Any

from jijiao_contracts import Envelope
from jijiao_kit.consuming import EventDispatcher, Inbox
from jijiao_stack.teacher_events import CE_NUMBER, EXPECTED_TEACHER, same_in_every_order
from notify.bootstrap import build
from notify.service_layer.handlers import register_fact_handlers
from notify.settings import Settings

KEPT = ("name", "mobile", "email", "school_id", "school_name", "district", "active", "status")


async def test_the_same_events_in_any_order_give_the_same_contact(settings_env: dict[str, Any]) -> None:
    container = build(Settings(**settings_env))
    dispatcher = EventDispatcher()
    register_fact_handlers(dispatcher, container.contacts, container.terms)
    key = f"teacher:{CE_NUMBER}"

    async def deliver(n: int, order: list[Envelope]) -> None:
        inbox = Inbox(container.infra.db, f"inbox_order_{n}")  # every order is a first delivery
        for envelope in order:
            await dispatcher.dispatch(envelope, inbox)

    async def reset() -> None:
        await container.contacts.collection.delete_many({"_id": key})

    contact = await same_in_every_order(deliver, lambda: container.contacts.get(key), reset)
    assert {name: contact.get(name) for name in KEPT} == {name: EXPECTED_TEACHER[name] for name in KEPT}
    assert (contact["kind"], contact["ce_number"]) == ("teacher", CE_NUMBER)
    assert "subject" not in contact and "title" not in contact
    await container.infra.close()
