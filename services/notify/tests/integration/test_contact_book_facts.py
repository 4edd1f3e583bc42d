"""Contact-book facts fed through the real broker: an administrator's profile edits (AdminChanged),
the special-user flag (SpecialUserFlagged/Cleared) and a teacher's events in any order, all ordered by
``occurred_at``; and what they change downstream (where a bill's notices go, who hears that a
selection window opens)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from jijiao_contracts import IntegrationEvent
from jijiao_contracts.events.enrollment import (
    AdminChanged,
    AdminPhoneRebound,
    AdminRegistered,
    BillIssued,
    SpecialUserCleared,
    SpecialUserFlagged,
    TeacherArchived,
    TeacherChanged,
    TeacherRegistered,
    TeacherTransferred,
    TermScheduled,
)
from jijiao_kit.clock import FixedClock
from jijiao_stack.pytest_plugin import eventually, running
from notify.bootstrap import build
from notify.entrypoints.worker import create_worker, worker_container
from notify.settings import Settings

T0 = datetime(2026, 2, 1, 2, 0, tzinfo=UTC)
OPENS = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
CLOSES = datetime(2026, 3, 8, 10, 0, tzinfo=UTC)

# The one consumer in batches and one by one (a batch of one: its facts, then its notices).
CONSUMERS = pytest.mark.parametrize("batch_size", [200, 1], ids=["batched", "one-by-one"])


async def handled(container: Any, handler: str, event_id: str) -> bool:
    doc = await container.infra.db["inbox"].find_one({"_id": f"{handler}:{event_id}"})
    return doc is not None and doc.get("state") == "done"


@CONSUMERS
async def test_admin_profile_edit_changes_name_and_email_not_mobile(
    settings_env: dict[str, Any], smtp_server: Any, publish: Any, batch_size: int
) -> None:
    settings = Settings(
        **settings_env,
        smtp_port=smtp_server.port,
        quiet_hours_enabled=False,
        delivery_interval_seconds=0.05,
        consumer_batch_size=batch_size,
    )
    container = worker_container(settings)
    worker = create_worker(container)
    admin = AdminRegistered(
        subject="account:sa1",
        username="sa1",
        name="王老师",
        mobile="13800000001",
        email="old@example.com",
        roles=["school_admin"],
        school_id="s1",
        district="天河区",
    )
    async with running(worker):
        await publish(worker, admin, producer="enrollment", occurred_at=T0)
        await publish(
            worker,
            AdminPhoneRebound(subject="account:sa1", mobile="13800000002"),
            producer="enrollment",
            occurred_at=T0 + timedelta(hours=1),
        )
        await publish(
            worker,
            AdminChanged(subject="account:sa1", name="王小红", email="new@example.com"),
            producer="enrollment",
            occurred_at=T0 + timedelta(hours=3),
            times=2,
        )
        # an older edit delivered late changes nothing
        late = await publish(
            worker,
            AdminChanged(subject="account:sa1", name="王旧名", email="stale@example.com"),
            producer="enrollment",
            occurred_at=T0 + timedelta(hours=2),
        )
        await eventually(lambda: handled(container, "notify.contact_admin_changed", late.event_id))

        contact = await container.contacts.get("account:sa1")
        assert contact is not None
        assert (contact["name"], contact["email"], contact["mobile"]) == ("王小红", "new@example.com", "13800000002")
        assert contact["kind"] == "admin" and bool(contact["is_school_admin"]) and contact["school_id"] == "s1"

        # the school's bill now reaches the edited address (and the re-bound mobile)
        bill = BillIssued(
            bill_id="b1",
            bill_number="B2601-001",
            term="2601",
            school_id="s1",
            school_name="天河一小",
            payee="市继教中心",
            amount=Decimal("3600"),
            teacher_count=12,
            payment_due_at=datetime(2026, 3, 10, 10, 0, tzinfo=UTC),
        )
        envelope = await publish(worker, bill, producer="enrollment")

        async def both_sent() -> bool:
            docs = await container.infra.db["messages"].find({"cause_id": envelope.event_id}).to_list()
            return len(docs) == 2 and all(doc["status"] == "sent" for doc in docs)

        await eventually(both_sent, timeout=15)
    docs = await container.infra.db["messages"].find({"cause_id": envelope.event_id}).to_list()
    assert sorted(doc["to"] for doc in docs) == ["13800000002", "new@example.com"]
    assert [m["To"] for m in smtp_server.messages] == ["new@example.com"]
    await container.infra.close()


@CONSUMERS
async def test_special_users_hear_no_selection_window_reminders(
    settings_env: dict[str, Any], publish: Any, batch_size: int
) -> None:
    clock = FixedClock(OPENS - timedelta(hours=1))
    settings = Settings(
        **settings_env, quiet_hours_enabled=False, reminder_interval_seconds=3600, consumer_batch_size=batch_size
    )
    container = worker_container(settings, clock=clock)
    worker = create_worker(container)

    def teacher(ce: str) -> TeacherRegistered:
        return TeacherRegistered(
            ce_number=ce,
            name=f"老师{ce[-2:]}",
            school_id="s1",
            school_name="一小",
            district="天河区",
            mobile=f"139000006{ce[-2:]}",
            registered_year=2026,
        )

    def flagged(ce: str) -> SpecialUserFlagged:
        return SpecialUserFlagged(
            ce_number=ce,
            term="2512",
            school_id="s1",
            name=f"老师{ce[-2:]}",
            mobile=f"139000006{ce[-2:]}",
            course_codes=["C1"],
            times_flagged=1,
        )

    def cleared(ce: str) -> SpecialUserCleared:
        return SpecialUserCleared(
            ce_number=ce, school_id="s1", name=f"老师{ce[-2:]}", mobile=f"139000006{ce[-2:]}", cleared_by="account:c"
        )

    async with running(worker):
        for ce in ("2026000601", "2026000602", "2026000603", "2026000604"):
            await publish(worker, teacher(ce), producer="enrollment", occurred_at=T0)

        async def registered() -> bool:
            return await container.infra.db["contacts"].count_documents({"kind": "teacher", "active": True}) == 4

        await eventually(registered)
        at = T0 + timedelta(days=1)
        # 02: flagged and still special, though a later change of the teacher's record came first
        await publish(
            worker,
            TeacherChanged(
                ce_number="2026000602",
                name="老师02",
                school_id="s1",
                school_name="一小",
                district="天河区",
                mobile="13900000699",
            ),
            producer="enrollment",
            occurred_at=at + timedelta(hours=2),
        )
        await publish(worker, flagged("2026000602"), producer="enrollment", occurred_at=at)
        # 03: flagged, then cleared: may select again
        await publish(worker, flagged("2026000603"), producer="enrollment", occurred_at=at)
        await publish(worker, cleared("2026000603"), producer="enrollment", occurred_at=at + timedelta(hours=1))
        # 04: flagged again after being cleared; the older clearing, delivered late, changes nothing
        await publish(worker, flagged("2026000604"), producer="enrollment", occurred_at=at + timedelta(hours=2))
        await publish(worker, cleared("2026000604"), producer="enrollment", occurred_at=at)
        term = TermScheduled(
            term="2601",
            year=2026,
            selection_opens_at=OPENS,
            selection_closes_at=CLOSES,
            study_starts_on=date(2026, 3, 15),
            study_ends_on=date(2026, 6, 15),
            payment_due_at=CLOSES + timedelta(days=7),
        )
        await publish(worker, term, producer="enrollment")

        async def ready() -> bool:
            db = container.infra.db
            return (
                await db["terms"].count_documents({}) == 1
                # the flags are applied in bulk before their batch's notices, so the notice counts below
                # say the last clearing was seen
                # the flag/clear notices still go out (the routes are untouched by the fact handlers)
                and await db["messages"].count_documents({"template": "special_user_flagged"}) == 3
                and await db["messages"].count_documents({"template": "special_user_cleared"}) == 2
            )

        await eventually(ready)

    contacts = {doc["_id"]: doc async for doc in container.infra.db["contacts"].find({})}
    assert contacts["teacher:2026000602"]["mobile"] == "13900000699"  # the change was kept too
    assert bool(contacts["teacher:2026000602"]["special"]) is True
    assert bool(contacts["teacher:2026000603"]["special"]) is False
    assert bool(contacts["teacher:2026000604"]["special"]) is True

    clock.set(OPENS + timedelta(minutes=1))
    assert await container.reminders.selection_windows() == 2  # 01 and 03
    clock.set(CLOSES - timedelta(hours=23))
    assert await container.reminders.selection_windows() == 2
    reminded = await container.infra.db["messages"].find({"template": {"$regex": "^selection_window"}}).to_list()
    assert sorted({doc["subject"] for doc in reminded}) == ["teacher:2026000601", "teacher:2026000603"]
    await container.infra.close()


async def test_admin_contact_parts_converge_in_any_order(settings_env: dict[str, Any]) -> None:
    """Registration, re-binding and profile edit handled newest first: each part keeps its newest value
    (one stamp for the whole contact dropped the re-binding and the registration here)."""
    from jijiao_contracts import Envelope
    from jijiao_kit.consuming import EventDispatcher, Inbox
    from notify.service_layer.handlers import register_fact_handlers

    container = build(Settings(**settings_env))
    dispatcher = EventDispatcher()
    register_fact_handlers(dispatcher, container.contacts, container.terms)
    inbox = Inbox(container.infra.db)
    events = [
        (AdminChanged(subject="account:sa2", name="李新", email="li.new@example.com"), 3),
        (AdminPhoneRebound(subject="account:sa2", mobile="13800000022"), 1),
        (
            AdminRegistered(
                subject="account:sa2",
                username="sa2",
                name="李旧",
                mobile="13800000021",
                email="li.old@example.com",
                roles=["school_admin"],
                school_id="s2",
            ),
            0,
        ),
    ]
    for event, hours in events:
        envelope = Envelope.wrap(event, producer="enrollment", occurred_at=T0 + timedelta(hours=hours))
        await dispatcher.dispatch(envelope, inbox)
    contact = await container.contacts.get("account:sa2")
    assert contact is not None
    assert (contact["name"], contact["email"], contact["mobile"]) == ("李新", "li.new@example.com", "13800000022")
    assert contact["kind"] == "admin" and contact["username"] == "sa2" and contact["school_id"] == "s2"
    assert [doc["_id"] for doc in await container.contacts.school_admins("s2")] == ["account:sa2"]
    await container.infra.close()


def _teacher_history(ce: str) -> list[tuple[Any, int]]:
    """A teacher's events in queue order, with their hour after T0: registered, changed (new mobile
    and email), transferred, archived as "left", reactivated by the school."""
    return [
        (
            TeacherRegistered(
                ce_number=ce,
                name="赵老师",
                school_id="s1",
                school_name="一小",
                district="天河区",
                mobile="13900000801",
                email="zhao.old@example.com",
                registered_year=2026,
            ),
            0,
        ),
        (
            TeacherChanged(
                ce_number=ce,
                name="赵晓",
                school_id="s1",
                school_name="一小",
                district="天河区",
                mobile="13900000802",
                email="zhao.new@example.com",
            ),
            1,
        ),
        (
            TeacherTransferred(
                ce_number=ce,
                from_school_id="s1",
                to_school_id="s2",
                to_school_name="二中",
                from_district="天河区",
                to_district="越秀区",
            ),
            2,
        ),
        (TeacherArchived(ce_number=ce, status="left", school_id="s2"), 3),
        (TeacherArchived(ce_number=ce, status="active", school_id="s2"), 4),
    ]


# Orders of the history above (indexes into it), each compared with the queue order of the same
# events: the registration last, the registration after the change only, newest first, the archiving
# handled after the reactivation, and a redelivered registration at the end.
TEACHER_ORDERS = [
    [0, 1, 2, 3, 4],
    [1, 2, 3, 4, 0],
    [0, 1],
    [1, 0],
    [4, 3, 2, 1, 0],
    [2, 1, 4, 0, 3],
    [0, 1, 2, 4, 3, 0],
]
# A retired teacher who is transferred stays retired (enrollment reactivates only a teacher who had
# left, with a TeacherArchived of its own): registered, retired, transferred.
RETIRED_ORDERS = [[0, 1, 2], [2, 1, 0], [1, 2, 0]]
FACT_HANDLERS: dict[type[IntegrationEvent], str] = {
    TeacherRegistered: "notify.contact_from_teacher",
    TeacherChanged: "notify.contact_teacher_changed",
    TeacherTransferred: "notify.contact_teacher_transferred",
    TeacherArchived: "notify.contact_teacher_archived",
}


def _as_contact(doc: dict[str, Any] | None) -> tuple[Any, ...]:
    assert doc is not None
    return (
        doc.get("kind"),
        bool(doc.get("active")),
        doc.get("name"),
        doc.get("mobile"),
        doc.get("email"),
        doc.get("school_id"),
        doc.get("school_name"),
        doc.get("district"),
    )


@CONSUMERS
async def test_teacher_contact_is_the_same_in_any_order(
    settings_env: dict[str, Any], smtp_server: Any, publish: Any, batch_size: int
) -> None:
    """A teacher's events handled in any order, through the real broker, leave the contact queue order
    leaves (one stamp for the whole contact dropped a registration handled after a later change: the
    teacher was never active and heard no reminders)."""
    settings = Settings(
        **settings_env, smtp_port=smtp_server.port, quiet_hours_enabled=False, consumer_batch_size=batch_size
    )
    container = worker_container(settings)
    worker = create_worker(container)
    published: list[tuple[str, str]] = []

    async def publish_in(order: list[int], history: list[tuple[Any, int]]) -> None:
        for index in order:
            event, hours = history[index]
            envelope = await publish(worker, event, producer="enrollment", occurred_at=T0 + timedelta(hours=hours))
            published.append((FACT_HANDLERS[type(event)], envelope.event_id))

    async with running(worker):
        for n, order in enumerate(TEACHER_ORDERS):
            await publish_in(order, _teacher_history(f"20260008{n:02d}"))
        for n, order in enumerate(RETIRED_ORDERS):
            ce = f"20260009{n:02d}"
            history = _teacher_history(ce)[:3]
            history[1] = (TeacherArchived(ce_number=ce, status="retired", school_id="s1"), 1)
            await publish_in(order, history)

        async def all_handled() -> bool:
            return all([await handled(container, handler, event_id) for handler, event_id in published])

        await eventually(all_handled, timeout=15)

    contacts = {doc["_id"]: doc async for doc in container.infra.db["contacts"].find({})}

    def contact(prefix: str, orders: list[list[int]], order: list[int]) -> tuple[Any, ...]:
        return _as_contact(contacts[f"teacher:{prefix}{orders.index(order):02d}"])

    # queue order
    changed = ("teacher", True, "赵晓", "13900000802", "zhao.new@example.com")
    assert contact("20260008", TEACHER_ORDERS, [0, 1, 2, 3, 4]) == (*changed, "s2", "二中", "越秀区")
    assert contact("20260008", TEACHER_ORDERS, [0, 1]) == (*changed, "s1", "一小", "天河区")
    retired = ("teacher", False, "赵老师", "13900000801", "zhao.old@example.com", "s2", "二中", "越秀区")
    assert contact("20260009", RETIRED_ORDERS, [0, 1, 2]) == retired
    # any other order: the same
    for order in TEACHER_ORDERS:
        queue = sorted(set(order))
        assert contact("20260008", TEACHER_ORDERS, order) == contact("20260008", TEACHER_ORDERS, queue), order
    for order in RETIRED_ORDERS:
        assert contact("20260009", RETIRED_ORDERS, order) == retired, order

    # the reminders' audience: every teacher but the retired ones
    audience = sorted([doc["_id"] async for doc in container.contacts.teachers_who_can_select()])
    assert audience == [f"teacher:20260008{n:02d}" for n in range(len(TEACHER_ORDERS))]
    await container.infra.close()
