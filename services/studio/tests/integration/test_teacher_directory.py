"""The teacher directory follows every roster event of enrollment (registration, change, transfer,
archiving), and the same events in any order give the same directory."""

from __future__ import annotations

from typing import Any

from jijiao_contracts import Envelope
from jijiao_contracts.events.enrollment import TeacherTransferred
from jijiao_kit.consuming import EventDispatcher, Inbox
from jijiao_stack.teacher_events import CE_NUMBER, EXPECTED_TEACHER, TEACHER_HISTORY, same_in_every_order
from studio.bootstrap import build
from studio.service_layer.handlers import register_handlers
from studio.settings import Settings

KEPT = ("name", "subject", "stage", "title", "school_id", "school_name", "district", "active", "status")


async def test_the_same_events_in_any_order_give_the_same_directory(settings_env: dict[str, Any]) -> None:
    container = build(Settings(**settings_env))
    dispatcher = EventDispatcher()
    register_handlers(dispatcher, container.directory)

    async def deliver(n: int, order: list[Envelope]) -> None:
        inbox = Inbox(container.infra.db, f"inbox_order_{n}")  # every order is a first delivery
        for envelope in order:
            await dispatcher.dispatch(envelope, inbox)

    async def reset() -> None:
        await container.directory.collection.delete_many({})

    entry = await same_in_every_order(deliver, lambda: container.directory.get(CE_NUMBER), reset)
    assert {name: entry.get(name) for name in KEPT} == {name: EXPECTED_TEACHER[name] for name in KEPT}
    assert "mobile" not in entry and "email" not in entry  # contact details stay with enrollment and notify
    await container.infra.close()


async def test_a_transfer_before_the_registration_is_not_yet_a_known_teacher(settings_env: dict[str, Any]) -> None:
    container = build(Settings(**settings_env))
    dispatcher = EventDispatcher()
    register_handlers(dispatcher, container.directory)
    inbox = Inbox(container.infra.db)
    transfer = next(e for e in TEACHER_HISTORY if e.routing_key == TeacherTransferred.routing_key())
    await dispatcher.dispatch(transfer, inbox)
    assert await container.directory.get(CE_NUMBER) is None
    assert (await container.directory.collection.find_one({"_id": CE_NUMBER}) or {})["school_id"] == "s7"
    await dispatcher.dispatch(TEACHER_HISTORY[0], inbox)  # the registration, older than the transfer
    known = await container.directory.get(CE_NUMBER)
    assert known is not None and (known["name"], known["school_id"]) == ("林老师", "s7")
    await container.infra.close()
