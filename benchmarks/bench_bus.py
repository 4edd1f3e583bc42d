"""The event bus end to end: state writes with outbox entries → relay (confirms) → quorum queue →
idempotent consumer, against the broker's raw publish and consume rates measured in the same run.

Env: BENCH_BUS_EVENTS (default 5000)."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks._measure import raw_broker_rates
from jijiao_contracts import Envelope, IntegrationEvent
from jijiao_kit.batching import Consuming
from jijiao_kit.consuming import EventDispatcher, Inbox
from jijiao_kit.outbox import outbox_entry, with_outbox
from jijiao_kit.runtime import Infrastructure
from jijiao_kit.settings import ServiceSettings
from jijiao_kit.worker import Worker
from jijiao_stack.brokeradmin import delete_by_prefix
from jijiao_stack.processes import ProcessGroup, free_port, spawn_store
from jijiao_stack.pytest_plugin import InfraUrls, cleanup_prefix, eventually


class BenchThingHappened(IntegrationEvent):
    EVENT_TYPE = "bench.thing_happened"

    thing_id: str


async def main() -> dict[str, Any]:
    count = int(os.environ.get("BENCH_BUS_EVENTS", "5000"))
    rabbitmq_url = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    workdir = Path(tempfile.mkdtemp(prefix="jijiao-bench-bus-"))
    group = ProcessGroup(workdir / "log")
    mongodb_url = os.environ.get("MONGODB_URL") or spawn_store(group, free_port(), workdir)
    prefix = f"b{uuid.uuid4().hex[:8]}"
    common: dict[str, Any] = {
        "mongodb_url": mongodb_url,
        "rabbitmq_url": rabbitmq_url,
        "redis_url": redis_url,
        "name_prefix": prefix,
    }
    try:
        raw = await raw_broker_rates(rabbitmq_url, count)
        producer = Infrastructure.from_settings(ServiceSettings(service_name="producer", log_level="WARNING", **common))
        consumer = Infrastructure.from_settings(
            ServiceSettings(service_name="consumer", log_level="WARNING", prefetch_count=64, **common)
        )
        dispatcher = EventDispatcher()

        @dispatcher.handles(BenchThingHappened, name="consumer.record")
        async def record(event: BenchThingHappened, envelope: Envelope) -> None:
            await consumer.db["effects"].update_one({"_id": event.thing_id}, {"$setOnInsert": {"n": 1}}, upsert=True)

        started = time.perf_counter()
        documents = [
            with_outbox({"_id": f"t{i}"}, [outbox_entry(BenchThingHappened(thing_id=f"t{i}"), producer="producer")])
            for i in range(count)
        ]
        for offset in range(0, count, 1000):
            await producer.db["things"].insert_many(documents[offset : offset + 1000], ordered=False)
        write_seconds = time.perf_counter() - started

        consumer_worker = Worker(
            consumer, title="consumer", consuming=Consuming.one_by_one(dispatcher, Inbox(consumer.db))
        )
        producer_worker = Worker(producer, title="producer", outbox_collections=["things"])
        await consumer_worker.start()
        started = time.perf_counter()
        await producer_worker.start()

        async def all_consumed() -> bool:
            return await consumer.db["effects"].count_documents({}) >= count

        await eventually(all_consumed, timeout=1800, interval=0.2)
        drain_seconds = time.perf_counter() - started
        await producer_worker.stop()
        await consumer_worker.stop()
        effects = await consumer.db["effects"].count_documents({})
        pending = await producer.db["things"].count_documents({"outbox_pending": {"$gt": 0}})
        await producer.close()
        await consumer.close()
    finally:
        await cleanup_prefix(InfraUrls(mongodb_url, rabbitmq_url, redis_url), prefix)
        await delete_by_prefix(rabbitmq_url, (f"{prefix}.",))
        group.stop()
    rate = count / drain_seconds
    return {
        "events": count,
        "state_writes_per_second": round(count / write_seconds, 1),
        "relay_to_consumer_events_per_second": round(rate, 1),
        **raw,
        "ratio_to_raw_consume": round(rate / raw["raw_consume_per_second"], 3),
        "effects": effects,
        "outbox_left_pending": pending,
        "summary": {
            "events": count,
            "end_to_end_events_per_second": round(rate, 1),
            "raw_consume_per_second": raw["raw_consume_per_second"],
            "ratio": round(rate / raw["raw_consume_per_second"], 3),
            "lost": count - effects,
            "left_in_outbox": pending,
        },
    }
