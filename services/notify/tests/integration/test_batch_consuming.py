"""The worker's batched consumer: a burst of events becomes exactly one notice and one SMS per cause
and recipient, however events are redelivered and batched; one by one (``consumer_batch_size=1``) gives
the same result; a redelivery after the audience grew sends nothing new."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from jijiao_contracts import Envelope
from jijiao_contracts.events.enrollment import AdminRegistered, BillIssued, SpecialUserFlagged, TeacherRegistered
from jijiao_kit.messaging import EventPublisher
from jijiao_stack.pytest_plugin import eventually, running
from notify.entrypoints.worker import create_worker, worker_container
from notify.settings import Settings


def settings(env: dict[str, Any], **more: Any) -> Settings:
    values = {
        "quiet_hours_enabled": False,
        "email_enabled": False,
        "delivery_interval_seconds": 0.05,
        "recipient_rate_per_hour": 1000,
        **more,
    }
    return Settings(**env, **values)


def flagged(index: int) -> Envelope:
    return Envelope.wrap(
        SpecialUserFlagged(
            ce_number=f"2026{index:06d}",
            term="2601",
            school_id="s1",
            name="测试老师",
            mobile=f"139{index:08d}",
            course_codes=["C1"],
            times_flagged=1,
        ),
        producer="enrollment",
    )


async def publish_all(worker: Any, envelopes: list[Envelope]) -> None:
    publisher = EventPublisher(worker.broker, worker.settings.topology)
    await asyncio.gather(
        *(
            publisher.publish_raw(e.routing_key, e.model_dump_json().encode(), event_id=e.event_id, correlation_id=None)
            for e in envelopes
        )
    )


@pytest.mark.parametrize(("batch_size", "count"), [(200, 400), (1, 40)])
async def test_burst_with_redeliveries_sends_one_sms_per_event(
    settings_env: dict[str, Any], batch_size: int, count: int
) -> None:
    container = worker_container(settings(settings_env, consumer_batch_size=batch_size))
    worker = create_worker(container)
    db = container.infra.db
    envelopes = [flagged(n) for n in range(count)]
    # A teacher registered in the same burst: the welcome SMS goes to the contact the event created.
    welcome = Envelope.wrap(
        TeacherRegistered(
            ce_number="2026999999",
            name="陈晓明",
            school_id="s1",
            school_name="天河一小",
            district="天河区",
            mobile="13999999999",
            registered_year=2026,
        ),
        producer="enrollment",
    )
    async with running(worker):
        await publish_all(worker, [*envelopes, welcome, *envelopes[: count // 4]])

        async def all_sent() -> bool:
            return await db["messages"].count_documents({"status": "sent", "outbox_pending": 0}) == count + 1

        await eventually(all_sent, timeout=60)
        await publish_all(worker, envelopes[-count // 4 :])  # redelivered after they were sent
        await asyncio.sleep(1.5)
    sink = await container.sink.everything()
    assert len(sink) == count + 1
    assert all(doc["deliveries"] == 1 for doc in sink)
    assert {doc["to"] for doc in sink} == {f"139{n:08d}" for n in range(count)} | {"13999999999"}
    assert await db["messages"].count_documents({}) == count + 1
    contact = await container.contacts.get("teacher:2026999999")
    assert contact is not None and contact["mobile"] == "13999999999"
    await container.infra.close()


def admin(n: int) -> AdminRegistered:
    return AdminRegistered(
        subject=f"account:a{n}",
        username=f"sa{n}",
        name=f"管理员{n}",
        mobile=f"1370000000{n}",
        roles=["school_admin"],
        school_id="s1",
        district="天河区",
    )


async def test_redelivered_bill_reaches_no_admin_registered_since(settings_env: dict[str, Any]) -> None:
    container = worker_container(settings(settings_env))
    worker = create_worker(container)
    db = container.infra.db
    bill = Envelope.wrap(
        BillIssued(
            bill_id="b1",
            bill_number="B2601-001",
            term="2601",
            school_id="s1",
            school_name="天河一小",
            payee="市继教中心",
            amount=Decimal("3600"),
            teacher_count=12,
            payment_due_at=datetime(2026, 3, 10, 10, 0, tzinfo=UTC),
        ),
        producer="enrollment",
    )
    async with running(worker):
        await publish_all(worker, [Envelope.wrap(admin(1), producer="enrollment")])
        await eventually(lambda: container.contacts.get("account:a1"))
        await publish_all(worker, [bill])

        async def sent() -> bool:
            return await db["messages"].count_documents({"cause_id": bill.event_id, "status": "sent"}) == 1

        await eventually(sent, timeout=15)
        await publish_all(worker, [Envelope.wrap(admin(2), producer="enrollment")])
        await eventually(lambda: container.contacts.get("account:a2"))
        await publish_all(worker, [bill])
        await asyncio.sleep(1.5)
    assert [doc["to"] for doc in await container.sink.everything()] == ["13700000001"]
    await container.infra.close()


async def test_handed_over_notices_go_out_without_waiting_for_the_delivery_job(settings_env: dict[str, Any]) -> None:
    """The delivery job ticks once a minute here: notices created by the consumer are sent by the
    worker's sending task as soon as they are handed over, and it stops cleanly with the worker."""
    container = worker_container(settings(settings_env, delivery_interval_seconds=60))
    worker = create_worker(container)
    db = container.infra.db
    async with running(worker):
        await asyncio.sleep(0.5)  # the job's first tick is past
        await publish_all(worker, [flagged(n) for n in range(30)])

        async def all_sent() -> bool:
            return await container.sink.count() == 30

        await eventually(all_sent, timeout=10)
    assert await db["messages"].count_documents({"status": "sent"}) == 30
    await container.infra.close()
