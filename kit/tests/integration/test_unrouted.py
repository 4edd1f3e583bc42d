"""Events no service consumes go to a queue with a message TTL (issue 16: NoticeSent filled the
unrouted queue to its cap); the queue of earlier versions, whose arguments cannot change in place,
is replaced at start without a PRECONDITION_FAILED."""

from __future__ import annotations

from typing import Any

import aio_pika
import pytest
from aio_pika.exceptions import ChannelNotFoundEntity

from jijiao_contracts import Topology
from jijiao_kit.messaging import UNROUTED_MAX_LENGTH, UNROUTED_TTL_MS, declare_topology, make_broker


async def test_unrouted_events_expire_and_the_old_queue_is_replaced(settings_env: dict[str, Any]) -> None:
    url = settings_env["rabbitmq_url"]
    topology = Topology(prefix=settings_env["name_prefix"])
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        # the queue as earlier versions declared it, holding an event
        legacy = await channel.declare_queue(
            topology.legacy_unrouted_queue,
            durable=True,
            arguments={"x-queue-type": "quorum", "x-max-length": UNROUTED_MAX_LENGTH, "x-overflow": "drop-head"},
        )
        await channel.default_exchange.publish(aio_pika.Message(b"{}"), routing_key=legacy.name)

        broker = make_broker(url, prefetch_count=8, app_id="test")
        await broker.connect()
        try:
            await declare_topology(broker, topology, delivery_limit=5)
            await declare_topology(broker, topology, delivery_limit=5)  # every start: idempotent
            exchange = await channel.get_exchange(topology.events_exchange)
            await exchange.publish(aio_pika.Message(b"{}"), routing_key="nobody.consumes_this")
        finally:
            await broker.stop()

        # Declaring with other arguments than the queue has fails: these are exactly its arguments.
        unrouted = await channel.declare_queue(
            topology.unrouted_queue,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-message-ttl": UNROUTED_TTL_MS,
                "x-max-length": UNROUTED_MAX_LENGTH,
                "x-overflow": "drop-head",
            },
        )
        assert unrouted.declaration_result.message_count == 1
        assert UNROUTED_TTL_MS <= 15 * 60 * 1000
        with pytest.raises(ChannelNotFoundEntity):
            await (await connection.channel()).declare_queue(topology.legacy_unrouted_queue, passive=True)
