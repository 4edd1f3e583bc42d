"""Time-dependent reminders: selection window opening / closing within 24 h as scheduled jobs (on a
FixedClock), and December's points-expiry reminder, announced by the hours bank (PointsExpiring) and
routed like any notice. Fed by real events through the worker."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from jijiao_contracts.events.enrollment import TeacherArchived, TeacherRegistered, TermScheduled
from jijiao_contracts.events.hours import DeclarationReviewed, PointsExpiring
from jijiao_kit.clock import FixedClock
from jijiao_stack.pytest_plugin import eventually, running
from notify.bootstrap import build
from notify.entrypoints.worker import create_worker, worker_container
from notify.settings import Settings

OPENS = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
CLOSES = datetime(2026, 3, 8, 10, 0, tzinfo=UTC)  # 18:00 Shanghai


def registered(ce_number: str, mobile: str) -> TeacherRegistered:
    return TeacherRegistered(
        ce_number=ce_number,
        name=f"老师{ce_number[-2:]}",
        school_id="s1",
        school_name="一小",
        district="天河区",
        mobile=mobile,
        registered_year=2026,
    )


async def test_window_and_points_reminders(settings_env: dict[str, Any], publish: Any) -> None:
    clock = FixedClock(OPENS - timedelta(hours=1))
    settings = Settings(**settings_env, quiet_hours_enabled=False, reminder_interval_seconds=3600)
    container = worker_container(settings, clock=clock)
    worker = create_worker(container)
    async with running(worker):
        for ce, mobile in (("2026000401", "13900000401"), ("2026000402", "13900000402"), ("2026000403", "13900000403")):
            await publish(worker, registered(ce, mobile), producer="enrollment")
        await publish(
            worker, TeacherArchived(ce_number="2026000403", status="retired", school_id="s1"), producer="enrollment"
        )
        term = TermScheduled(
            term="2601",
            year=2026,
            selection_opens_at=OPENS,
            selection_closes_at=CLOSES,
            study_starts_on=date(2026, 3, 15),
            study_ends_on=date(2026, 6, 15),
            payment_due_at=CLOSES + timedelta(days=7),
        )
        await publish(worker, term, producer="enrollment", times=2)
        expiring = PointsExpiring(ce_number="2026000401", year=2026, balance=350, redeemable_hours=3)
        await publish(worker, expiring, producer="hours", times=2)
        returned = DeclarationReviewed(
            declaration_id="d1",
            ce_number="2026000402",
            year=2026,
            title="校本研修",
            level="initial",
            decision="returned",
            reason="缺少证明材料",
            reviewer="account:sa",
        )
        await publish(worker, returned, producer="hours")

        async def ready() -> bool:
            db = container.infra.db
            return (
                await db["contacts"].count_documents({"active": False}) == 1
                and await db["terms"].count_documents({}) == 1
                and await db["messages"].count_documents({"template": "points_expiring"}) == 1
                and await db["messages"].count_documents({"template": "declaration_returned"}) == 1
            )

        await eventually(ready)

    reminders = container.reminders
    assert await reminders.selection_windows() == 0  # not open yet
    clock.set(OPENS + timedelta(minutes=1))
    assert await reminders.selection_windows() == 2  # the two active teachers, not the retired one
    assert await reminders.selection_windows() == 0  # a repeated tick adds nothing
    clock.set(CLOSES - timedelta(hours=25))
    assert await reminders.selection_windows() == 0
    clock.set(CLOSES - timedelta(hours=23))
    assert await reminders.selection_windows() == 2
    assert await reminders.selection_windows() == 0
    clock.set(CLOSES + timedelta(minutes=1))
    assert await reminders.selection_windows() == 0

    await container.delivery.run_once()
    sink = {doc["id"]: doc for doc in await container.sink.everything()}
    texts = sorted(doc["text"] for doc in sink.values())
    assert sum("第2601期选课已开始，选课截止时间为2026年03月08日 18:00" in t for t in texts) == 2
    assert sum("第2601期选课将于2026年03月08日 18:00截止" in t for t in texts) == 2
    assert [t for t in texts if "积分" in t] == [
        "【广州继教网】老师01老师，您2026年尚有350积分未兑换，积分将于12月31日过期清零，请及时兑换学时。"
    ]
    assert [t for t in texts if "退回" in t] == [
        "【广州继教网】老师02老师，您的学时申报《校本研修》被退回，原因：缺少证明材料。请修改后重新提交。"
    ]
    assert not any(doc["to"] == "13900000403" and "选课" in doc["text"] for doc in sink.values())
    await container.infra.close()


async def test_contact_book_follows_changes_in_event_order(settings_env: dict[str, Any]) -> None:
    from jijiao_contracts import Envelope
    from jijiao_contracts.events.enrollment import AdminPhoneRebound, AdminRegistered

    container = build(Settings(**settings_env))
    db = container.infra.db
    from jijiao_kit.consuming import EventDispatcher, Inbox
    from notify.service_layer.handlers import register_fact_handlers

    dispatcher = EventDispatcher()
    register_fact_handlers(dispatcher, container.contacts, container.terms)
    inbox = Inbox(db)
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    admin = AdminRegistered(
        subject="account:1",
        username="u",
        name="管理员",
        mobile="13800000001",
        roles=["district_admin"],
        district="天河区",
    )
    events = [
        Envelope.wrap(admin, producer="enrollment", occurred_at=t0),
        Envelope.wrap(
            AdminPhoneRebound(subject="account:1", mobile="13800000002"),
            producer="enrollment",
            occurred_at=t0 + timedelta(hours=1),
        ),
        Envelope.wrap(
            AdminPhoneRebound(subject="account:1", mobile="13800000003"),
            producer="enrollment",
            occurred_at=t0 + timedelta(hours=2),
        ),
        Envelope.wrap(
            AdminPhoneRebound(subject="account:1", mobile="13800000009"),
            producer="enrollment",
            occurred_at=t0 + timedelta(minutes=30),
        ),
    ]
    for envelope in events:
        await dispatcher.dispatch(envelope, inbox)
    contact = await container.contacts.get("account:1")
    assert contact is not None and contact["mobile"] == "13800000003"  # the late, older rebind is ignored
    assert bool(contact["is_school_admin"]) is False and contact["district"] == "天河区"
    await container.infra.close()


async def test_teacher_changes_and_transfers_update_the_contact(settings_env: dict[str, Any]) -> None:
    from jijiao_contracts import Envelope
    from jijiao_contracts.events.enrollment import TeacherChanged, TeacherTransferred
    from jijiao_kit.consuming import EventDispatcher, Inbox
    from notify.service_layer.handlers import register_fact_handlers

    container = build(Settings(**settings_env))
    dispatcher = EventDispatcher()
    register_fact_handlers(dispatcher, container.contacts, container.terms)
    inbox = Inbox(container.infra.db)
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    changed = TeacherChanged(
        ce_number="2026000501",
        name="陈晓明",
        school_id="s1",
        school_name="一小",
        district="天河区",
        mobile="13900000599",
        email="new@example.com",
    )
    moved = TeacherTransferred(
        ce_number="2026000501",
        from_school_id="s1",
        to_school_id="s7",
        to_school_name="七中",
        from_district="天河区",
        to_district="越秀区",
    )
    for event, offset in ((registered("2026000501", "13900000501"), 0), (changed, 1), (moved, 2)):
        await dispatcher.dispatch(
            Envelope.wrap(event, producer="enrollment", occurred_at=t0 + timedelta(hours=offset)), inbox
        )
    contact = await container.contacts.get("teacher:2026000501")
    assert contact is not None
    assert (contact["mobile"], contact["email"], contact["school_id"], contact["district"]) == (
        "13900000599",
        "new@example.com",
        "s7",
        "越秀区",
    )
    await container.infra.close()
