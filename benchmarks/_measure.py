"""Reference rates measured in the same run as a benchmark, so results are read as ratios."""

from __future__ import annotations

import asyncio
import time
import uuid

import aio_pika


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


async def raw_broker_rates(
    rabbitmq_url: str, count: int, *, prefetch: int = 256, body: bytes | None = None
) -> dict[str, float]:
    """Publish ``count`` persistent messages with confirms to a scratch quorum queue, then consume and
    ack them: the broker's raw rates on this machine, the ceiling for any consumer of ours. Pass a
    ``body`` of the size the benchmark's real events have."""
    connection = await aio_pika.connect_robust(rabbitmq_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=prefetch)
        queue = await channel.declare_queue(
            f"bench.raw.{uuid.uuid4().hex[:8]}", durable=True, arguments={"x-queue-type": "quorum"}
        )
        body = body or b'{"event_id": "x", "payload": {"ce_number": "2026000001", "hours": 2}}'
        started = time.perf_counter()
        for offset in range(0, count, 500):
            batch = range(offset, min(offset + 500, count))
            await asyncio.gather(
                *(
                    channel.default_exchange.publish(
                        aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, message_id=str(i)),
                        routing_key=queue.name,
                    )
                    for i in batch
                )
            )
        publish_seconds = time.perf_counter() - started
        done = asyncio.Event()
        received = 0

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal received
            await message.ack()
            received += 1
            if received >= count:
                done.set()

        started = time.perf_counter()
        tag = await queue.consume(on_message)
        await asyncio.wait_for(done.wait(), timeout=600)
        consume_seconds = time.perf_counter() - started
        await queue.cancel(tag)
        await queue.delete(if_unused=False, if_empty=False)
    return {
        "raw_publish_per_second": round(count / publish_seconds, 1),
        "raw_consume_per_second": round(count / consume_seconds, 1),
    }
