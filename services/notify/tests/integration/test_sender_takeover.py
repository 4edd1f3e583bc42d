"""A SIGKILLed sender's notices go out at the next scan, not after their 60 s lease (issue 16), and a
live sender's notices are never taken from it: claims name the worker's heartbeat
(``jijiao_kit.liveness``). Real store, Redis and development sink."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.errors import AutoReconnect

from jijiao_kit.liveness import Liveness
from notify.adapters.sms import DevSmsSink
from notify.bootstrap import Container, build
from notify.domain.routing import Notice, Teacher
from notify.domain.schedule import epoch
from notify.entrypoints.worker import worker_container
from notify.service_layer.delivery import DeliveryService
from notify.settings import Settings

TTL = 0.9
BEAT = 0.3
KEY = "cause-kill:teacher:2026000001:sms"


def settings(env: dict[str, Any], **more: Any) -> Settings:
    return Settings(
        **env,
        quiet_hours_enabled=False,
        email_enabled=False,
        recipient_rate_per_hour=1000,
        delivery_scan_seconds=0,
        delivery_lease_seconds=60,
        liveness_ttl_seconds=TTL,
        liveness_beat_seconds=BEAT,
        **more,
    )


class Collecting:
    def __init__(self) -> None:
        self.published: list[str] = []

    async def publish_raw(self, routing_key: str, body: bytes, *, event_id: str, correlation_id: str | None) -> None:
        self.published.append(event_id)


async def notice_claimed_by(env: dict[str, Any], holder: str) -> None:
    """A notice due now, claimed by ``holder`` (as a worker's consumer inserts it) with 60 s of lease."""
    api = build(settings(env))
    notice = Notice("special_user_flagged", Teacher("2026000001", "13900000001", "测试老师"), {"term": "2601"})
    await api.notifier.notify("cause-kill", notice)
    lease_ts = epoch(datetime.now(UTC) + timedelta(seconds=60))
    result = await api.infra.db["messages"].update_one(
        {"_id": KEY, "status": "pending"},
        {"$set": {"status": "sending", "lease_ts": lease_ts, "claim": "token-of-" + holder, "holder": holder}},
    )
    assert result.modified_count == 1
    await api.infra.close()


async def deliveries(container: Container) -> dict[str, int]:
    return {doc["id"]: int(doc["deliveries"]) for doc in await container.sink.everything()}


async def test_a_dead_senders_notice_is_sent_at_the_next_scan_once(settings_env: dict[str, Any]) -> None:
    await notice_claimed_by(settings_env, "notify:sigkilled-worker")
    worker = worker_container(settings(settings_env))
    assert worker.liveness is not None
    await worker.liveness.beat()
    started = time.monotonic()
    await worker.delivery.drain()
    doc = await worker.messages.get(KEY)
    assert doc is not None and doc["status"] == "sent" and doc["holder"] == worker.liveness.holder
    assert time.monotonic() - started < 30  # one scan, not the 60 s lease
    assert await deliveries(worker) == {KEY: 1}
    await worker.delivery.drain()
    assert await deliveries(worker) == {KEY: 1}
    await worker.infra.close()


async def test_a_live_senders_notice_is_left_to_it_until_its_heartbeat_is_gone(settings_env: dict[str, Any]) -> None:
    worker = worker_container(settings(settings_env))
    other = Liveness(
        worker.infra.redis, worker.settings.redis_prefix, "notify:slow-live-worker", ttl_seconds=TTL, beat_seconds=BEAT
    )
    await notice_claimed_by(settings_env, other.holder)
    stop = asyncio.Event()
    beating = asyncio.create_task(other.run(stop))
    try:
        until = time.monotonic() + 2 * TTL  # longer than its heartbeat's TTL: renewed, so kept
        while time.monotonic() < until:
            await worker.delivery.drain()
            doc = await worker.messages.get(KEY)
            assert doc is not None and doc["status"] == "sending" and doc["holder"] == other.holder
            await asyncio.sleep(0.1)
        assert await deliveries(worker) == {}
    finally:
        stop.set()
        await beating
    await worker.infra.redis.delete(other.key(other.holder))  # it died
    await worker.delivery.drain()
    doc = await worker.messages.get(KEY)
    assert doc is not None and doc["status"] == "sent"
    assert await deliveries(worker) == {KEY: 1}
    await worker.infra.close()


async def test_a_dead_senders_outcome_record_is_published_at_once(settings_env: dict[str, Any]) -> None:
    """A sender killed after its finishing writes but before publishing: its record is young (not yet a
    quarter of the lease old) but its holder is dead, so the scan publishes it now; a live sender's
    young record is left to it."""
    worker = worker_container(settings(settings_env))
    db = worker.infra.db
    publisher = Collecting()
    worker.delivery.finisher.publisher = publisher
    live = Liveness(worker.infra.redis, worker.settings.redis_prefix, "notify:live", ttl_seconds=5, beat_seconds=1)
    await live.beat()
    now = time.time()
    for n, holder in enumerate(("notify:dead", live.holder)):
        key = f"n{n}"
        await db["messages"].insert_one({"_id": key, "status": "sent", "finished_by": f"r{n}"})
        await db["outcome_records"].insert_one(
            {
                "_id": f"r{n}",
                "created_ts": now,
                "holder": holder,
                "events": [
                    {"notice_id": key, "event_id": f"e{n}", "routing_key": "notify.notice_sent.v1", "body": "{}"}
                ],
            }
        )
    await worker.delivery.drain()
    assert publisher.published == ["e0"]
    assert [doc["_id"] async for doc in db["outcome_records"].find({})] == ["r1"]
    await worker.infra.close()


async def test_a_sender_whose_heartbeat_is_stale_sends_nothing(settings_env: dict[str, Any]) -> None:
    """A worker that could not renew its heartbeat (Redis away, a stalled loop) may already be counted
    dead by another, which takes its claims: it does not send them too."""
    worker = worker_container(settings(settings_env))
    assert worker.liveness is not None
    await worker.liveness.beat()
    await asyncio.sleep(TTL - BEAT + 0.05)  # no renewal since
    assert worker.liveness.stale()
    notice = Notice("special_user_flagged", Teacher("2026000001", "13900000001", "测试老师"), {"term": "2601"})
    await worker.notifier.notify("cause-kill", notice)  # inserted claimed by this worker and handed over
    await worker.delivery.run_once()
    doc = await worker.messages.get(KEY)
    assert doc is not None and doc["status"] == "sending" and doc["holder"] == worker.liveness.holder
    assert await deliveries(worker) == {}
    await worker.infra.close()


async def test_a_claim_of_its_own_the_worker_lost_track_of_is_sent_at_the_next_scan(
    settings_env: dict[str, Any],
) -> None:
    """The store died while the consumer inserted notices claimed: the insert applied, its answer was
    lost, the batch failed and the redelivery finds the notices existing (so hands nothing over). The
    worker knows it holds no such claim and gives it back at the next scan, not after 60 s."""
    worker = worker_container(settings(settings_env))
    assert worker.liveness is not None
    await worker.liveness.beat()
    await notice_claimed_by(settings_env, worker.liveness.holder)
    await worker.delivery.drain()
    doc = await worker.messages.get(KEY)
    assert doc is not None and doc["status"] == "sent"
    assert await deliveries(worker) == {KEY: 1}
    await worker.infra.close()


async def test_a_notice_handed_over_and_waiting_is_not_given_back_by_the_scan(settings_env: dict[str, Any]) -> None:
    worker = worker_container(settings(settings_env, delivery_drain_seconds=0))
    assert worker.liveness is not None
    await worker.liveness.beat()
    notice = Notice("special_user_flagged", Teacher("2026000001", "13900000001", "测试老师"), {"term": "2601"})
    await worker.notifier.notify("cause-kill", notice)  # claimed and handed over, not sent yet
    await worker.delivery.drain()  # a scan, no time left for the handed ones
    doc = await worker.messages.get(KEY)
    assert doc is not None and doc["status"] == "sending" and await deliveries(worker) == {}
    await worker.delivery.run_once()  # the handed one goes out from memory
    assert await deliveries(worker) == {KEY: 1}
    await worker.delivery.drain()
    assert await deliveries(worker) == {KEY: 1}
    await worker.infra.close()


async def test_an_outcome_the_store_did_not_take_is_stored_when_it_answers_not_sent_again(
    settings_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store went away between the send and its finishing write: the write is retried while the
    notices stay in hand (no scan gives them back), so the notice is finished, not sent twice."""
    worker = worker_container(settings(settings_env))
    assert worker.liveness is not None
    await worker.liveness.beat()
    finisher = worker.delivery.finisher
    real = finisher.finish
    failures = [AutoReconnect("store away"), AutoReconnect("still away")]

    async def flaky(outcomes: Any, now_ts: float) -> None:
        if failures:
            await worker.delivery.drain()  # a scan meanwhile leaves the notice alone
            raise failures.pop(0)
        await real(outcomes, now_ts)

    monkeypatch.setattr(finisher, "finish", flaky)
    notice = Notice("special_user_flagged", Teacher("2026000001", "13900000001", "测试老师"), {"term": "2601"})
    await worker.notifier.notify("cause-kill", notice)
    await worker.delivery.run_once()
    assert failures == []
    doc = await worker.messages.get(KEY)
    assert doc is not None and doc["status"] == "sent"
    await worker.delivery.drain()
    assert await deliveries(worker) == {KEY: 1}
    await worker.infra.close()


async def test_a_notice_the_dead_sender_had_handed_to_the_sink_is_finished_not_sent_again(
    settings_env: dict[str, Any],
) -> None:
    """The sender died after the sink took the SMS and before its finishing write: the taker asks the
    provider (status query by our message id) and finishes the notice with the provider's id."""
    await notice_claimed_by(settings_env, "notify:killed-mid-send")
    worker = worker_container(settings(settings_env))
    assert worker.liveness is not None
    doc = await worker.messages.get(KEY)
    assert doc is not None
    sms = worker.delivery.channels["sms"]
    assert isinstance(sms, DevSmsSink)
    [provider_id] = await sms.send_many([DeliveryService._outgoing(doc)])  # the dead sender's send
    await worker.liveness.beat()
    await worker.delivery.drain()
    finished = await worker.messages.get(KEY)
    assert finished is not None and finished["status"] == "sent"
    assert finished.get("provider_id") == provider_id
    assert await deliveries(worker) == {KEY: 1}  # not sent twice
    await worker.infra.close()
