"""One teacher's history of roster events, for the tests that deliver it to a service's teacher
directory in several orders and expect the same directory every time (the consumer does not keep
publish order, and a redelivery may come late), and the checks studio and baseline share."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from jijiao_contracts import Envelope, IntegrationEvent
from jijiao_contracts.enums import Stage
from jijiao_contracts.events.enrollment import TeacherArchived, TeacherChanged, TeacherRegistered, TeacherTransferred
from jijiao_kit.consuming import EventDispatcher, Inbox

CE_NUMBER = "2026009901"
_T0 = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)


def _wrap(event: IntegrationEvent, minutes: int) -> Envelope:
    return Envelope.wrap(event, producer="enrollment", occurred_at=_T0 + timedelta(minutes=minutes))


#: Registered, changed (new name, mobile, subject), left, transferred to another district, reactivated.
TEACHER_HISTORY: list[Envelope] = [
    _wrap(
        TeacherRegistered(
            ce_number=CE_NUMBER,
            name="林老师",
            school_id="s1",
            school_name="一小",
            district="天河区",
            mobile="13800000001",
            email="lin@example.cn",
            subject="数学",
            stage=Stage.PRIMARY,
            title="一级教师",
            registered_year=2026,
        ),
        0,
    ),
    _wrap(
        TeacherChanged(
            ce_number=CE_NUMBER,
            name="林晓",
            school_id="s1",
            school_name="一小",
            district="天河区",
            mobile="13800000002",
            email="linxiao@example.cn",
            subject="语文",
            stage=Stage.PRIMARY,
            title="高级教师",
        ),
        10,
    ),
    _wrap(TeacherArchived(ce_number=CE_NUMBER, status="left", school_id="s1"), 20),
    _wrap(
        TeacherTransferred(
            ce_number=CE_NUMBER,
            from_school_id="s1",
            to_school_id="s7",
            to_school_name="越秀一中",
            from_district="天河区",
            to_district="越秀区",
        ),
        30,
    ),
    _wrap(TeacherArchived(ce_number=CE_NUMBER, status="active", school_id="s7"), 30),
]

#: Where every order of ``TEACHER_HISTORY`` ends (a service keeps the fields it needs of these).
EXPECTED_TEACHER: dict[str, Any] = {
    "ce_number": CE_NUMBER,
    "name": "林晓",
    "mobile": "13800000002",
    "email": "linxiao@example.cn",
    "subject": "语文",
    "stage": "primary",
    "title": "高级教师",
    "school_id": "s7",
    "school_name": "越秀一中",
    "district": "越秀区",
    "active": True,
    "status": "active",
}


def orders(history: Sequence[Envelope], *, shuffled: int = 4, seed: int = 11) -> list[list[Envelope]]:
    """Publish order, its reverse, every event redelivered after the rest, and a few seeded shuffles."""
    forward = list(history)
    rng = random.Random(seed)
    result = [forward, forward[::-1], forward[1:] + forward[:1] + forward]
    result.extend(rng.sample(forward, len(forward)) for _ in range(shuffled))
    return result


async def same_in_every_order(
    deliver: Callable[[int, list[Envelope]], Awaitable[None]],
    read: Callable[[], Awaitable[dict[str, Any] | None]],
    reset: Callable[[], Awaitable[None]],
) -> dict[str, Any]:
    """Deliver ``TEACHER_HISTORY`` in every order of ``orders`` (``deliver(n, order)``, after ``reset``)
    and return the directory entry, which must be the same, stamps and all, every time."""
    entries: list[dict[str, Any] | None] = []
    for n, order in enumerate(orders(TEACHER_HISTORY)):
        await reset()
        await deliver(n, order)
        entries.append(await read())
    first = entries[0]
    assert first is not None, "the history left no directory entry"
    for n, entry in enumerate(entries):
        assert entry == first, f"order {n} ended in {entry}, not {first}"
    return first


#: The directory fields that studio and baseline keep (contact details stay with enrollment and notify).
DIRECTORY_FIELDS = ("name", "subject", "stage", "title", "school_id", "school_name", "district", "active", "status")


async def directory_in_every_order(
    container: Any,
    register_handlers: Callable[[Any, Any], None],
    kept: Sequence[str] = DIRECTORY_FIELDS,
) -> None:
    """A service's teacher directory (``container.directory``, handlers by ``register_handlers(
    dispatcher, directory)``) ends the same after ``TEACHER_HISTORY`` in every order, with the
    ``kept`` fields of ``EXPECTED_TEACHER`` and no contact details. Closes the container's infra."""
    try:
        dispatcher = EventDispatcher()
        register_handlers(dispatcher, container.directory)

        async def deliver(n: int, order: list[Envelope]) -> None:
            inbox = Inbox(container.infra.db, f"inbox_order_{n}")  # every order is a first delivery
            for envelope in order:
                await dispatcher.dispatch(envelope, inbox)

        async def reset() -> None:
            await container.directory.collection.delete_many({})

        entry = await same_in_every_order(deliver, lambda: container.directory.get(CE_NUMBER), reset)
        assert {name: entry.get(name) for name in kept} == {name: EXPECTED_TEACHER[name] for name in kept}
        assert "mobile" not in entry and "email" not in entry  # contact details stay with enrollment and notify
    finally:
        await container.infra.close()


async def transfer_before_registration(container: Any, register_handlers: Callable[[Any, Any], None]) -> None:
    """A transfer delivered before the registration leaves a directory record that is not yet a
    known teacher (``directory.get`` is None); the registration then completes it. Closes the infra."""
    try:
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
    finally:
        await container.infra.close()
