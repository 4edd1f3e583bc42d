"""Batch finishes: NoticeSent leaves through an outcome record written before the notices' status.
Every event of a finished notice is published (once per record, the same event id if repeated), a
record left behind by a broker failure or a crash is published by the delivery scan for exactly the
notices it finished, and the development sink still counts a repeated send."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika

from jijiao_contracts import Envelope
from jijiao_contracts.events.enrollment import SpecialUserFlagged
from jijiao_kit.clock import FixedClock
from jijiao_kit.messaging import EventPublisher
from jijiao_stack.pytest_plugin import eventually, running
from notify.bootstrap import build
from notify.domain.routing import Notice, Teacher
from notify.entrypoints.worker import create_worker, worker_container
from notify.settings import Settings


def settings(env: dict[str, Any], **more: Any) -> Settings:
    return Settings(
        **env,
        quiet_hours_enabled=False,
        email_enabled=False,
        delivery_interval_seconds=0.05,
        recipient_rate_per_hour=1000,
        **more,
    )


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


class Collecting:
    """A publisher that keeps what it was given (or fails, like a broker that is away)."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.published: list[dict[str, Any]] = []

    async def publish_raw(self, routing_key: str, body: bytes, *, event_id: str, correlation_id: str | None) -> None:
        if self.fail:
            raise ConnectionError("broker away")
        self.published.append({"routing_key": routing_key, "event_id": event_id, **json.loads(body)})


async def test_worker_publishes_one_notice_sent_per_notice_and_removes_its_records(
    settings_env: dict[str, Any],
) -> None:
    container = worker_container(settings(settings_env))
    worker = create_worker(container)
    db = container.infra.db
    count = 60
    envelopes = [flagged(n) for n in range(count)]
    topology = worker.settings.topology
    connection = await aio_pika.connect_robust(worker.settings.rabbitmq_url)
    received: list[dict[str, Any]] = []
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(f"{worker.settings.name_prefix}.test.notice_sent", auto_delete=True)
        async with running(worker):
            await queue.bind(topology.events_exchange, routing_key="notify.notice_sent.v1")

            async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
                received.append(json.loads(message.body))
                await message.ack()

            await queue.consume(on_message)
            publisher = EventPublisher(worker.broker, topology)
            await asyncio.gather(
                *(
                    publisher.publish_raw(
                        e.routing_key, e.model_dump_json().encode(), event_id=e.event_id, correlation_id=None
                    )
                    for e in [*envelopes, *envelopes[:10]]  # some redelivered
                )
            )

            async def all_announced() -> bool:
                return len(received) >= count

            await eventually(all_announced, timeout=30)
            await asyncio.sleep(0.5)
    assert len(received) == count
    assert len({r["event_id"] for r in received}) == count
    assert {r["payload"]["recipient"] for r in received} == {f"139{n:08d}" for n in range(count)}
    assert {r["payload"]["cause_event_id"] for r in received} == {e.event_id for e in envelopes}
    assert await db["outcome_records"].count_documents({}) == 0
    sent = await db["messages"].find({}).to_list()
    assert len(sent) == count and all(d["status"] == "sent" and d["finished_by"] for d in sent)
    assert all(d["outbox_pending"] == 0 for d in sent)
    await container.infra.close()


async def test_a_record_left_by_a_broker_failure_is_published_by_the_scan(settings_env: dict[str, Any]) -> None:
    clock = FixedClock(datetime(2026, 3, 10, 4, 0, tzinfo=UTC))
    container = build(settings(settings_env, delivery_scan_seconds=0, delivery_lease_seconds=60), clock=clock)
    db = container.infra.db
    for n in range(3):
        notice = Notice("special_user_flagged", Teacher(f"2026{n:06d}", f"139{n:08d}", "测试老师"), {"term": "2601"})
        await container.notifier.notify(f"cause-{n}", notice)
    container.delivery.finisher.publisher = Collecting(fail=True)
    assert await container.delivery.run_once() == 3
    [record] = await db["outcome_records"].find({}).to_list()
    assert len(record["events"]) == 3
    assert await db["messages"].count_documents({"status": "sent", "finished_by": record["_id"]}) == 3

    working = Collecting()
    container.delivery.finisher.publisher = working
    await container.delivery.drain()  # the record is younger than a quarter of the lease: left alone
    assert working.published == []
    clock.advance(timedelta(seconds=16))
    await container.delivery.drain()
    assert sorted(e["payload"]["cause_event_id"] for e in working.published) == ["cause-0", "cause-1", "cause-2"]
    assert {e["event_id"] for e in working.published} == {e["event_id"] for e in record["events"]}
    assert await db["outcome_records"].count_documents({}) == 0
    await container.delivery.drain()
    assert len(working.published) == 3
    await container.infra.close()


async def test_a_record_whose_notice_was_not_finished_publishes_nothing_for_it(settings_env: dict[str, Any]) -> None:
    """A crash between the record and the notices' writes: the scan publishes no event for a notice the
    record did not finish; the notice goes out again after its lease and announces itself then."""
    clock = FixedClock(datetime(2026, 3, 10, 4, 0, tzinfo=UTC))
    container = build(settings(settings_env, delivery_scan_seconds=0, delivery_lease_seconds=60), clock=clock)
    db = container.infra.db
    notice = Notice("special_user_flagged", Teacher("2026000001", "13900000001", "测试老师"), {"term": "2601"})
    await container.notifier.notify("cause-crash", notice)
    key = "cause-crash:teacher:2026000001:sms"
    [claimed] = await container.messages.claim_many([key], clock.now(), clock.now() + timedelta(seconds=60))
    await db["outcome_records"].insert_one(
        {
            "_id": "r-crashed",
            "created_ts": clock.now().timestamp(),
            "events": [{"notice_id": key, "event_id": "e-lost", "routing_key": "notify.notice_sent.v1", "body": "{}"}],
        }
    )
    publisher = Collecting()
    container.delivery.finisher.publisher = publisher
    clock.advance(timedelta(seconds=61))
    await container.delivery.drain()
    assert "e-lost" not in {e["event_id"] for e in publisher.published}
    assert await db["outcome_records"].count_documents({"_id": "r-crashed"}) == 0
    doc = await container.messages.get(key)
    assert doc is not None and doc["status"] == "sent" and doc["finished_by"] != "r-crashed"
    assert [e["payload"]["notice_id"] for e in publisher.published] == [key]
    sink = await container.sink.everything()
    assert [(d["id"], d["deliveries"]) for d in sink] == [(key, 1)]
    assert claimed["status"] == "sending"
    await container.infra.close()


async def test_sink_counts_a_repeated_send(settings_env: dict[str, Any]) -> None:
    container = build(settings(settings_env))
    fields = {"to": "13900000001", "text": "t", "received_at": datetime.now(UTC)}
    await container.sink.store_many([("m1", fields), ("m2", fields)])
    await container.sink.store_many([("m1", {**fields, "text": "again"}), ("m3", fields)])
    docs = {d["id"]: d for d in await container.sink.everything()}
    assert {k: d["deliveries"] for k, d in docs.items()} == {"m1": 2, "m2": 1, "m3": 1}
    assert docs["m1"]["text"] == "t"
    await container.infra.close()


def test_prefetch_holds_two_batches(settings_env: dict[str, Any]) -> None:
    assert settings(settings_env).prefetch_count == 400
    assert settings(settings_env, consumer_batch_size=1, prefetch_count=32).prefetch_count == 32
    assert settings(settings_env, prefetch_count=1000).prefetch_count == 1000
