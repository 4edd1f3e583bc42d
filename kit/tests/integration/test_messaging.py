"""The bus guarantees of DESIGN.md rules 1–4 with the real broker and store: outbox relay with
confirms, idempotent consuming, bounded redelivery into the parking queue."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from jijiao_contracts import Envelope, IntegrationEvent
from jijiao_kit.batching import Consuming
from jijiao_kit.consuming import DispatchEach, EventDispatcher, Inbox
from jijiao_kit.messaging import EventPublisher
from jijiao_kit.outbox import OutboxRelay, outbox_entry, outbox_update, with_outbox
from jijiao_kit.runtime import Infrastructure
from jijiao_kit.settings import ServiceSettings
from jijiao_kit.worker import Worker
from jijiao_stack.pytest_plugin import eventually, running


class ThingHappened(IntegrationEvent):
    EVENT_TYPE = "kittest.thing_happened"

    thing_id: str
    poison: bool = False


class Harness:
    """A producing service ("producer", outbox on collection `things`) and a consuming one ("consumer")."""

    def __init__(self, settings_env: dict[str, Any]) -> None:
        self.producer_infra = Infrastructure.from_settings(
            ServiceSettings(service_name="producer", delivery_limit=2, **settings_env)
        )
        self.consumer_infra = Infrastructure.from_settings(
            ServiceSettings(service_name="consumer", delivery_limit=2, **settings_env)
        )
        self.dispatcher = EventDispatcher()
        self.handled: list[str] = []
        db = self.consumer_infra.db

        @self.dispatcher.handles(ThingHappened, name="consumer.count_thing")
        async def count(event: ThingHappened, envelope: Envelope) -> None:
            if event.poison:
                raise RuntimeError("poison")
            self.handled.append(envelope.event_id)
            # Deliberately not idempotent by itself: the inbox must keep a redelivery from counting twice.
            await db["effects"].update_one({"_id": event.thing_id}, {"$inc": {"count": 1}}, upsert=True)

    def producer(self) -> Worker:
        return Worker(self.producer_infra, title="producer", outbox_collections=["things"])

    def consumer(self) -> Worker:
        return Worker(
            self.consumer_infra,
            title="consumer",
            consuming=Consuming.one_by_one(self.dispatcher, Inbox(self.consumer_infra.db)),
        )

    @property
    def things(self) -> Any:
        return self.producer_infra.db["things"]

    async def effect_count(self, thing_id: str) -> int:
        doc = await self.consumer_infra.db["effects"].find_one({"_id": thing_id})
        return int(doc["count"]) if doc else 0

    async def close(self) -> None:
        await self.producer_infra.close()
        await self.consumer_infra.close()


@pytest.fixture
async def harness(settings_env: dict[str, Any]) -> AsyncIterator[Harness]:
    h = Harness(settings_env)
    yield h
    await h.close()


def entry(thing_id: str, poison: bool = False) -> dict[str, Any]:
    return outbox_entry(ThingHappened(thing_id=thing_id, poison=poison), producer="producer")


async def queue_depth(url: str, queue: str) -> int:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)


async def test_state_written_while_no_relay_runs_is_published_after_restart(harness: Harness) -> None:
    """The relay was 'killed' between the state write and the publish: nothing is lost."""
    await harness.things.insert_one(with_outbox({"_id": "t1", "state": "new"}, [entry("t1")]))
    await harness.things.update_one({"_id": "t1"}, outbox_update({"$set": {"state": "done"}}, [entry("t1")]))
    async with running(harness.consumer()), running(harness.producer()):
        assert await eventually(lambda: harness.effect_count("t1")) == 2
        await eventually(lambda: _pending_is(harness.things, "t1", 0))
    doc = await harness.things.find_one({"_id": "t1"})
    assert doc is not None and doc["outbox"] == {} and doc["state"] == "done"


async def _pending_is(collection: Any, key: str, value: int) -> bool:
    doc = await collection.find_one({"_id": key})
    return doc is not None and doc["outbox_pending"] == value


async def test_relay_killed_after_publish_before_cleanup_republishes_and_consumer_dedupes(
    harness: Harness,
) -> None:
    await harness.things.insert_one(with_outbox({"_id": "t2"}, [entry("t2")]))
    producer = harness.producer()
    async with running(harness.consumer()):
        await producer.broker.connect()
        await producer._startup()
        publisher = EventPublisher(producer.broker, producer.settings.topology)
        doc = await harness.things.find_one({"_id": "t2"})
        assert doc is not None
        (pending,) = doc["outbox"].values()
        # Published once by a relay that then died before removing the entry...
        await publisher.publish_raw(
            pending["routing_key"], pending["body"].encode(), event_id=pending["event_id"], correlation_id=None
        )
        await producer.broker.stop()
        # ...so the restarted relay publishes it again.
        async with running(harness.producer()):
            await eventually(lambda: _pending_is(harness.things, "t2", 0))
            await asyncio.sleep(0.5)
    assert harness.handled.count(pending["event_id"]) == 1
    assert await harness.effect_count("t2") == 1


async def test_duplicated_event_has_one_effect(harness: Harness) -> None:
    async with running(harness.consumer()), running(harness.producer()) as producer:
        envelope = Envelope.wrap(ThingHappened(thing_id="t3"), producer="producer")
        publisher = EventPublisher(producer.broker, producer.settings.topology)
        for _ in range(5):
            await publisher.publish_raw(
                envelope.routing_key,
                envelope.model_dump_json().encode(),
                event_id=envelope.event_id,
                correlation_id=None,
            )
        await eventually(lambda: harness.effect_count("t3"))
        await asyncio.sleep(0.5)
    assert await harness.effect_count("t3") == 1
    assert harness.handled == [envelope.event_id]


async def test_poison_message_is_parked_after_the_delivery_limit_and_the_queue_keeps_flowing(
    harness: Harness, settings_env: dict[str, Any]
) -> None:
    topology = harness.consumer_infra.settings.topology
    async with running(harness.consumer()), running(harness.producer()) as producer:
        publisher = EventPublisher(producer.broker, producer.settings.topology)
        poison = Envelope.wrap(ThingHappened(thing_id="bad", poison=True), producer="producer")
        await publisher.publish_raw(
            poison.routing_key, poison.model_dump_json().encode(), event_id=poison.event_id, correlation_id=None
        )
        garbage_key = ThingHappened.routing_key()
        await publisher.publish_raw(garbage_key, b"not an envelope", event_id="garbage", correlation_id=None)
        await harness.things.insert_one(with_outbox({"_id": "t4"}, [entry("t4")]))

        async def parked() -> bool:
            return await queue_depth(settings_env["rabbitmq_url"], topology.parking_queue("consumer")) == 2

        await eventually(parked, timeout=20)
        assert await eventually(lambda: harness.effect_count("t4")) == 1
    assert await queue_depth(settings_env["rabbitmq_url"], topology.service_queue("consumer")) == 0
    assert await harness.effect_count("bad") == 0


async def test_events_nobody_consumes_are_kept_in_the_unrouted_queue(
    harness: Harness, settings_env: dict[str, Any]
) -> None:
    """mandatory + on_return_raises would stall the relay on an unbound key; the alternate exchange
    keeps such events instead."""
    topology = harness.producer_infra.settings.topology
    async with running(harness.producer()):
        await harness.things.insert_one(with_outbox({"_id": "t5"}, [entry("t5")]))
        await eventually(lambda: _pending_is(harness.things, "t5", 0))
    assert await queue_depth(settings_env["rabbitmq_url"], topology.unrouted_queue) == 1


async def test_relay_publishes_entries_of_one_document_in_order(harness: Harness) -> None:
    entries = [entry(f"order-{i}") for i in range(5)]
    await harness.things.insert_one(with_outbox({"_id": "t6"}, entries))
    published: list[str] = []

    class Recorder:
        async def publish_raw(
            self, routing_key: str, body: bytes, *, event_id: str, correlation_id: str | None
        ) -> None:
            published.append(event_id)

    db: AsyncDatabase[dict[str, Any]] = harness.producer_infra.db
    relay = OutboxRelay(db, ["things"], Recorder())
    assert await relay.run_once() == 5
    assert published == [e["event_id"] for e in entries]
    assert await relay.run_once() == 0


async def test_a_claim_whose_holder_died_is_taken_over_after_its_lease(harness: Harness) -> None:
    inbox = Inbox(harness.consumer_infra.db, lease_seconds=0.2)
    assert await inbox.claim("h", "e1") == "run"
    assert await inbox.claim("h", "e1") == "busy"
    await asyncio.sleep(0.3)
    assert await inbox.claim("h", "e1") == "run"  # taken over once the lease ran out...
    assert await inbox.claim("h", "e1") == "busy"  # ...with a fresh lease
    await asyncio.sleep(0.3)
    assert await inbox.claim("h", "e1") == "run"  # and again: the lease stays comparable after a $set
    await inbox.complete("h", "e1")
    assert await inbox.claim("h", "e1") == "done"


async def test_relay_asks_idle_collections_at_most_once_per_interval_while_another_is_busy(
    harness: Harness,
) -> None:
    class Recorder:
        async def publish_raw(
            self, routing_key: str, body: bytes, *, event_id: str, correlation_id: str | None
        ) -> None:
            return None

    db: AsyncDatabase[dict[str, Any]] = harness.producer_infra.db
    relay = OutboxRelay(db, ["things", "idle_a", "idle_b"], Recorder(), interval_seconds=60)
    asked: list[str] = []
    relay_collection = relay._relay_collection

    async def counting(name: str) -> int:
        asked.append(name)
        return await relay_collection(name)

    relay._relay_collection = counting  # type: ignore[method-assign]
    for index in range(3):  # the busy collection gets a new event before each pass
        await harness.things.insert_one(with_outbox({"_id": f"busy-{index}"}, [entry(f"busy-{index}")]))
        assert await relay.run_once(skip_idle=True) == 1
    assert asked.count("things") == 3
    assert asked.count("idle_a") == asked.count("idle_b") == 1  # not once per pass
    await db["idle_a"].insert_one(with_outbox({"_id": "late"}, [entry("late")]))
    assert await relay.run_once() == 1  # a full pass still finds it at once


# -- issue 16: inbox claims never block redelivery ------------------------------------------------


async def test_an_invalid_payload_is_parked_at_once_and_leaves_no_claim(
    harness: Harness, settings_env: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """The payload is validated before the inbox is claimed: a payload that fails is parked on its
    first delivery with its validation error logged (it left a 30 s claim, and each redelivery
    failed with HandlerBusy, hiding the error, for up to two minutes)."""
    topology = harness.consumer_infra.settings.topology
    async with running(harness.consumer()), running(harness.producer()) as producer:
        publisher = EventPublisher(producer.broker, producer.settings.topology)
        bad = Envelope.wrap(ThingHappened(thing_id="x"), producer="producer")
        body = bad.model_dump_json().replace('"thing_id":"x"', '"thing_id":7').encode()
        started = asyncio.get_running_loop().time()
        await publisher.publish_raw(bad.routing_key, body, event_id=bad.event_id, correlation_id=None)

        async def parked() -> bool:
            return await queue_depth(settings_env["rabbitmq_url"], topology.parking_queue("consumer")) == 1

        await eventually(parked, timeout=5)
        assert asyncio.get_running_loop().time() - started < 3
        await harness.things.insert_one(with_outbox({"_id": "t9"}, [entry("t9")]))
        assert await eventually(lambda: harness.effect_count("t9")) == 1
    assert await harness.consumer_infra.db["inbox"].count_documents({"_id": {"$regex": bad.event_id}}) == 0
    assert any("invalid" in record.getMessage() and bad.event_id in record.getMessage() for record in caplog.records)


async def test_a_failing_handler_releases_its_claim(harness: Harness) -> None:
    inbox = Inbox(harness.consumer_infra.db)
    envelope = Envelope.wrap(ThingHappened(thing_id="boom", poison=True), producer="producer")
    with pytest.raises(RuntimeError):
        await harness.dispatcher.dispatch(envelope, inbox)
    assert await inbox.claim("consumer.count_thing", envelope.event_id) == "run"  # free at once


async def test_one_stuck_claim_does_not_stall_its_batch(harness: Harness) -> None:
    """A claim left by a holder that died (lease still running) holds back only its own event: the
    rest of the batch is handled at once, the stuck one after the lease, once."""
    db = harness.consumer_infra.db
    inbox = Inbox(db)
    worker = Worker(
        harness.consumer_infra,
        title="consumer",
        consuming=Consuming.in_batches(
            DispatchEach(harness.dispatcher, inbox), [ThingHappened.routing_key()], batch_size=50
        ),
    )
    envelopes = [Envelope.wrap(ThingHappened(thing_id=f"b{i}"), producer="producer") for i in range(30)]
    stuck = envelopes[7]
    lease_ends = time.time() + 4
    await db["inbox"].insert_one(
        {
            "_id": f"consumer.count_thing:{stuck.event_id}",
            "state": "processing",
            "lease_until_ms": int(lease_ends * 1000),
        }
    )
    async with running(worker), running(harness.producer()) as producer:
        publisher = EventPublisher(producer.broker, producer.settings.topology)
        for envelope in envelopes:
            await publisher.publish_raw(
                envelope.routing_key,
                envelope.model_dump_json().encode(),
                event_id=envelope.event_id,
                correlation_id=None,
            )

        async def others_done() -> bool:
            return len(harness.handled) == 29

        await eventually(others_done, timeout=3.5)
        assert time.time() < lease_ends and stuck.event_id not in harness.handled
        await eventually(lambda: harness.effect_count("b7"), timeout=10)
    assert sorted(harness.handled) == sorted(envelope.event_id for envelope in envelopes)
    assert all([await harness.effect_count(f"b{i}") == 1 for i in range(30)])
