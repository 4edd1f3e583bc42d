"""Notify under a burst: N SpecialUserFlagged events (a payment deadline passing for a whole city
flags every unpaid teacher at once) published to the real broker; the notify worker of a private
system turns each into a pending notice and its delivery job sends it to the development sink.

Reported: notices per second from the first publish until the sink holds all N, the broker's raw
consume rate measured in the same run (N raw messages of the same size, published to a scratch
quorum queue and consumed with aio-pika, manual acks, the worker's prefetch), their ratio, and
duplicates / losses counted against the sink (every sink hit is counted in ``deliveries``). The sink
lives in Redis under the notify service's prefix (it stands in for an external gateway and costs the
service's store nothing); its keys are deleted after counting.

``BENCH_NOTICES`` sets N (default 50,000)."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import aio_pika
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from benchmarks._measure import raw_broker_rates
from benchmarks._system import bench_system
from jijiao_contracts import Envelope, Topology
from jijiao_contracts.events.enrollment import SpecialUserFlagged
from notify.adapters.sms_sink import SmsSinkStore
from notify.settings import Settings

PREFETCH = 32
PUBLISH_WINDOW = 500


def envelopes(count: int) -> list[Envelope]:
    return [
        Envelope.wrap(
            SpecialUserFlagged(
                ce_number=f"2026{index:06d}",
                term="2601",
                school_id=f"s{index % 1500}",
                name="测试老师",
                mobile=f"139{index:08d}",
                course_codes=["C2601-001"],
                times_flagged=1,
            ),
            producer="enrollment",
        )
        for index in range(count)
    ]


async def publish_all(exchange: aio_pika.abc.AbstractExchange, bodies: list[tuple[str, bytes, str]]) -> None:
    for start in range(0, len(bodies), PUBLISH_WINDOW):
        await asyncio.gather(
            *(
                exchange.publish(
                    aio_pika.Message(body, message_id=message_id, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key=routing_key,
                )
                for routing_key, body, message_id in bodies[start : start + PUBLISH_WINDOW]
            )
        )


async def wait_for_queue(url: str, queue_name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        connection = await aio_pika.connect(url)
        try:
            async with connection:
                channel = await connection.channel()
                await channel.declare_queue(queue_name, passive=True)
                return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def main() -> dict[str, Any]:
    count = int(os.environ.get("BENCH_NOTICES", "50000"))
    events = envelopes(count)
    body_size = len(events[0].model_dump_json().encode())
    extra = {"QUIET_HOURS_ENABLED": "false", "RECIPIENT_RATE_PER_HOUR": "1000000", "LOG_LEVEL": "WARNING"}
    with bench_system(extra_env=extra, seed=False) as system:
        url = system.config.rabbitmq_url
        topology = Topology(prefix=system.config.name_prefix)
        await wait_for_queue(url, topology.service_queue("notify"))
        raw = await raw_broker_rates(url, count, prefetch=PREFETCH, body=b"x" * body_size)

        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(system.mongodb_url)
        db = client[f"{system.config.name_prefix}_notify"]
        redis = Redis.from_url(system.config.redis_url, decode_responses=True)
        sink = SmsSinkStore(redis, Settings(name_prefix=system.config.name_prefix).redis_prefix)
        connection = await aio_pika.connect_robust(url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(topology.events_exchange)
            started = time.perf_counter()
            await publish_all(exchange, [(e.routing_key, e.model_dump_json().encode(), e.event_id) for e in events])
            published = time.perf_counter() - started
            deadline = time.monotonic() + max(600.0, count / 20)
            sink_count = 0
            while time.monotonic() < deadline:
                # One HLEN on Redis: polling takes nothing from the store of the service being measured.
                sink_count = await sink.count()
                if sink_count >= count:
                    break
                await asyncio.sleep(0.25)
            elapsed = time.perf_counter() - started
            await asyncio.sleep(2.0)  # let any late duplicate land before counting
        received = await sink.everything()
        docs = len(received)
        deliveries = sum(int(doc["deliveries"]) for doc in received)
        distinct_mobiles = len({doc["to"] for doc in received})
        sent = await db["messages"].count_documents({"status": "sent"})
        failed = await db["messages"].count_documents({"status": "failed"})
        await client.close()
        await sink.clear()
        await redis.aclose()

    rate = docs / elapsed if elapsed else 0.0
    ratio = rate / raw["raw_consume_per_second"] if raw["raw_consume_per_second"] else 0.0
    summary = {
        "notices": count,
        "notices_per_second": round(rate, 1),
        "broker_raw_consume_per_second": raw["raw_consume_per_second"],
        "ratio_to_raw_consume": round(ratio, 3),
        "duplicates": (deliveries - docs) + (docs - distinct_mobiles),
        "losses": count - distinct_mobiles,
        "failed": failed,
        "seconds": round(elapsed, 1),
    }
    return {
        "summary": summary,
        "events_published_per_second": round(count / published, 1),
        "broker_raw": raw,
        "sink_documents": docs,
        "sink_deliveries": deliveries,
        "messages_sent": sent,
        "message_body_bytes": body_size,
        "timed_out": docs < count,
    }
