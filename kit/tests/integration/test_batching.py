"""The batched consumer with the real broker and store: acks only after the batch's effects are stored,
a poison message is parked after the delivery limit while the queue keeps flowing, a body that is not
an envelope is rejected at once, and a redelivered event has no second effect."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aio_pika
import pytest

from jijiao_contracts import Envelope, IntegrationEvent
from jijiao_kit.batching import BatchConsumer, BatchInbox, Consuming
from jijiao_kit.messaging import EventPublisher
from jijiao_kit.runtime import Infrastructure
from jijiao_kit.settings import ServiceSettings
from jijiao_kit.worker import Worker
from jijiao_stack.pytest_plugin import eventually, running


class ItemCounted(IntegrationEvent):
    EVENT_TYPE = "batchtest.item_counted"

    item_id: str
    poison: bool = False


HANDLER = "batchtest.count"


class CountingHandler:
    """Counts items with a non-idempotent ``$inc``, guarded by the bulk inbox; a ``poison`` event fails.
    ``gate`` holds a batch after its effects are written, before it returns (so before the acks)."""

    def __init__(self, infra: Infrastructure) -> None:
        self.db = infra.db
        self.inbox = BatchInbox(infra.db)
        self.batches: list[int] = []
        self.gate: asyncio.Event | None = None
        self.written = asyncio.Event()
        self.consumer: BatchConsumer | None = None

    async def handle_batch(self, envelopes: Sequence[Envelope]) -> None:
        self.batches.append(len(envelopes))
        done = await self.inbox.done(HANDLER, [e.event_id for e in envelopes])
        fresh = [e for e in envelopes if e.event_id not in done]
        events = [e.payload_as(ItemCounted) for e in fresh]
        if any(event.poison for event in events):
            raise RuntimeError("poison")
        seen: set[str] = set()
        for envelope, event in zip(fresh, events, strict=True):
            if envelope.event_id in seen:  # the same event twice in one batch
                continue
            seen.add(envelope.event_id)
            await self.db["effects"].update_one({"_id": event.item_id}, {"$inc": {"count": 1}}, upsert=True)
        await self.inbox.mark_done(HANDLER, seen)
        self.written.set()
        if self.gate is not None:
            await self.gate.wait()

    async def count(self, item_id: str) -> int:
        doc = await self.db["effects"].find_one({"_id": item_id})
        return int(doc["count"]) if doc else 0

    async def total(self) -> int:
        return sum([int(doc["count"]) async for doc in self.db["effects"].find({})])


@pytest.fixture
async def infra(settings_env: dict[str, Any]) -> AsyncIterator[Infrastructure]:
    infra = Infrastructure.from_settings(ServiceSettings(service_name="batched", delivery_limit=2, **settings_env))
    yield infra
    await infra.close()


def batch_worker(infra: Infrastructure, handler: CountingHandler, batch_size: int = 50) -> Worker:
    worker = Worker(
        infra,
        title="batched",
        consuming=Consuming.in_batches(
            handler, [ItemCounted.routing_key()], batch_size=batch_size, linger_seconds=0.05
        ),
    )
    handler.consumer = worker.consumer
    return worker


async def publish(worker: Worker, envelopes: Sequence[Envelope], body: bytes | None = None) -> None:
    publisher = EventPublisher(worker.broker, worker.settings.topology)
    await asyncio.gather(
        *(
            publisher.publish_raw(
                e.routing_key, body or e.model_dump_json().encode(), event_id=e.event_id, correlation_id=None
            )
            for e in envelopes
        )
    )


async def queue_depth(url: str, queue: str) -> int:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)


def item(item_id: str, poison: bool = False) -> Envelope:
    return Envelope.wrap(ItemCounted(item_id=item_id, poison=poison), producer="test")


async def test_messages_are_handled_in_batches_each_effect_once(infra: Infrastructure) -> None:
    handler = CountingHandler(infra)
    worker = batch_worker(infra, handler)
    url = infra.settings.rabbitmq_url
    async with running(worker):
        await publish(worker, [item(f"i{n}") for n in range(300)])
        await eventually(lambda: _total_is(handler, 300), timeout=20)
        await eventually(lambda: _queue_empty(infra), timeout=10)
    assert len(handler.batches) < 100 and max(handler.batches) > 1  # batched, not one by one
    assert max(handler.batches) <= 50
    assert handler.consumer is not None and handler.consumer.stats.acked_together >= 1  # one ack per batch
    assert [await handler.count(f"i{n}") for n in range(300)] == [1] * 300
    assert await queue_depth(url, infra.settings.topology.service_queue("batched")) == 0


async def test_batches_are_not_capped_by_the_default_channel_prefetch(infra: Infrastructure) -> None:
    """The worker's default channel has a prefetch of 32; the batch consumer's own channel asks for two
    batches, and that is what must bound a batch."""
    assert infra.settings.prefetch_count == 32
    handler = CountingHandler(infra)
    worker = batch_worker(infra, handler, batch_size=100)
    await publish(worker, [])  # nothing yet: the queue exists once the worker starts
    async with running(worker):
        handler.gate = asyncio.Event()  # hold the first batch so the rest pile up in the queue
        await publish(worker, [item(f"p{n}") for n in range(400)])
        await asyncio.wait_for(handler.written.wait(), timeout=10)
        await asyncio.sleep(0.5)
        handler.gate.set()
        await eventually(lambda: _total_is(handler, 400), timeout=20)
    assert max(handler.batches) > 32, handler.batches


async def _total_is(handler: CountingHandler, expected: int) -> bool:
    return await handler.total() == expected


async def test_unacked_batch_is_redelivered_after_a_crash_and_has_one_effect(infra: Infrastructure) -> None:
    handler = CountingHandler(infra)
    handler.gate = asyncio.Event()  # never opened: the batch is written but never acked
    worker = batch_worker(infra, handler)
    envelopes = [item(f"c{n}") for n in range(30)]
    async with running(worker):
        await publish(worker, envelopes)
        await asyncio.wait_for(handler.written.wait(), timeout=10)
        await eventually(lambda: _total_is(handler, 30), timeout=10)
    # "Crash" after the effects, before the handler returned: nothing was acked, all is back in the queue.
    assert await queue_depth(infra.settings.rabbitmq_url, infra.settings.topology.service_queue("batched")) == 30
    second = CountingHandler(infra)
    async with running(batch_worker(infra, second)) as again:
        await publish(again, envelopes[:5])  # and a few plain duplicates on top
        await eventually(lambda: _queue_empty(infra), timeout=15)
    assert [await second.count(f"c{n}") for n in range(30)] == [1] * 30


async def _queue_empty(infra: Infrastructure) -> bool:
    return await queue_depth(infra.settings.rabbitmq_url, infra.settings.topology.service_queue("batched")) == 0


async def test_poison_is_parked_after_the_delivery_limit_and_the_rest_flows(infra: Infrastructure) -> None:
    handler = CountingHandler(infra)
    worker = batch_worker(infra, handler)
    topology = infra.settings.topology
    url = infra.settings.rabbitmq_url
    async with running(worker):
        good = [item(f"g{n}") for n in range(40)]
        await publish(worker, [*good[:20], item("bad", poison=True), *good[20:]])

        async def parked() -> bool:
            return await queue_depth(url, topology.parking_queue("batched")) == 1

        await eventually(parked, timeout=20)
        await eventually(lambda: _total_is(handler, 40), timeout=15)
        await publish(worker, [item("after")])  # the queue keeps flowing
        await eventually(lambda: handler.count("after"), timeout=10)

        async def all_acked() -> bool:  # the effect is stored before the ack: wait for the ack too
            return handler.consumer is not None and handler.consumer.stats.handled == 41

        await eventually(all_acked, timeout=10)
    assert await queue_depth(url, topology.service_queue("batched")) == 0
    assert await handler.count("bad") == 0
    assert [await handler.count(f"g{n}") for n in range(40)] == [1] * 40


async def test_a_body_that_is_not_an_envelope_is_rejected_at_once(infra: Infrastructure) -> None:
    handler = CountingHandler(infra)
    worker = batch_worker(infra, handler)
    topology = infra.settings.topology
    url = infra.settings.rabbitmq_url
    async with running(worker):
        await publish(worker, [item("x")], body=b"not an envelope")
        await publish(worker, [item("ok")])

        async def parked() -> bool:
            return await queue_depth(url, topology.parking_queue("batched")) == 1

        await eventually(parked, timeout=10)
        await eventually(lambda: handler.count("ok"), timeout=10)
    # Rejected without a retry: the handler never saw it, and no batch failed because of it.
    assert handler.batches.count(0) == 0
    assert await handler.count("x") == 0


async def test_bulk_inbox_shares_the_records_of_the_one_at_a_time_inbox(infra: Infrastructure) -> None:
    from jijiao_kit.consuming import Inbox

    single = Inbox(infra.db)
    bulk = BatchInbox(infra.db)
    assert await single.claim(HANDLER, "e1") == "run"  # a claim held by the one-at-a-time path
    await single.claim(HANDLER, "e2")
    await single.complete(HANDLER, "e2")
    assert await bulk.done(HANDLER, ["e1", "e2", "e3"]) == {"e2"}
    await bulk.mark_done(HANDLER, ["e1", "e2", "e3", "e3"])
    await bulk.mark_done(HANDLER, ["e3"])  # again: nothing changes, nothing raises
    assert await bulk.done(HANDLER, ["e1", "e2", "e3", "e4"]) == {"e1", "e2", "e3"}
    assert await single.claim(HANDLER, "e1") == "done" and await single.claim(HANDLER, "e3") == "done"
