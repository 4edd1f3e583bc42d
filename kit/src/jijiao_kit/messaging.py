"""RabbitMQ through FastStream with every safety default set explicitly (DESIGN.md rule 4):
publisher confirms, mandatory + on_return_raises, persistent messages, prefetch, durable topic
exchange with an alternate exchange, quorum queues with a delivery limit and a dead-letter exchange
that feeds one parking queue per service."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from faststream.rabbit import Channel, ExchangeType, QueueType, RabbitBroker, RabbitExchange, RabbitQueue
from faststream.rabbit.helpers import RabbitDeclarer

from jijiao_contracts import Topology

logger = logging.getLogger(__name__)

#: Events no service is bound to (``NoticeSent``, ``NoticeFailed``, events of a service not consumed
#: yet) go to the unrouted queue through the alternate exchange: kept this long, for inspection, then
#: dropped (they filled the queue to its cap in normal operation), and never more than this many.
UNROUTED_TTL_MS = 10 * 60 * 1000
UNROUTED_MAX_LENGTH = 100_000


def make_broker(rabbitmq_url: str, *, prefetch_count: int, app_id: str) -> RabbitBroker:
    return RabbitBroker(
        rabbitmq_url,
        app_id=app_id,
        default_channel=Channel(
            prefetch_count=prefetch_count,
            publisher_confirms=True,
            on_return_raises=True,
        ),
        graceful_timeout=15.0,
        log_level=logging.DEBUG,
    )


def events_exchange(topology: Topology) -> RabbitExchange:
    return RabbitExchange(
        topology.events_exchange,
        type=ExchangeType.TOPIC,
        durable=True,
        arguments={"alternate-exchange": topology.unrouted_exchange},
    )


def service_queue(topology: Topology, service: str, delivery_limit: int) -> RabbitQueue:
    return RabbitQueue(
        topology.service_queue(service),
        queue_type=QueueType.QUORUM,
        durable=True,
        arguments={
            "x-dead-letter-exchange": topology.dead_letter_exchange,
            "x-dead-letter-routing-key": service,
            "x-delivery-limit": delivery_limit,
        },
    )


async def declare_topology(
    broker: RabbitBroker,
    topology: Topology,
    *,
    service: str | None = None,
    routing_keys: Iterable[str] = (),
    delivery_limit: int,
    consumer_channel: Channel | None = None,
) -> None:
    """Declare the shared exchanges and, for a consuming service, its queue, parking queue and bindings.

    ``consumer_channel``: the channel the service's subscriber consumes on. FastStream keeps the queue
    object of the first declaration by name and consumes on *its* channel, so the service queue must be
    declared on the subscriber's channel or that channel's prefetch never applies (a batch consumer
    asking for two batches got the default channel's 32).

    Declarations are idempotent, so every process may run this at start."""
    unrouted_exchange = await broker.declare_exchange(
        RabbitExchange(topology.unrouted_exchange, type=ExchangeType.FANOUT, durable=True)
    )
    unrouted = await broker.declare_queue(
        RabbitQueue(
            topology.unrouted_queue,
            queue_type=QueueType.QUORUM,
            durable=True,
            arguments={
                "x-message-ttl": UNROUTED_TTL_MS,
                "x-max-length": UNROUTED_MAX_LENGTH,
                "x-overflow": "drop-head",
            },
        )
    )
    await unrouted.bind(unrouted_exchange)
    await _delete_legacy_unrouted(broker, topology)
    exchange = await broker.declare_exchange(events_exchange(topology))
    dead_letter = await broker.declare_exchange(
        RabbitExchange(topology.dead_letter_exchange, type=ExchangeType.DIRECT, durable=True)
    )
    if service is None:
        return
    parking = await broker.declare_queue(
        RabbitQueue(topology.parking_queue(service), queue_type=QueueType.QUORUM, durable=True)
    )
    await parking.bind(dead_letter, routing_key=service)
    declarer: RabbitDeclarer = broker.config.declarer
    queue = await declarer.declare_queue(service_queue(topology, service, delivery_limit), channel=consumer_channel)
    for key in routing_keys:
        await queue.bind(exchange, routing_key=key)


async def _delete_legacy_unrouted(broker: RabbitBroker, topology: Topology) -> None:
    """Upgrade: the unrouted queue of earlier versions has no TTL, and redeclaring a queue with other
    arguments fails (PRECONDITION_FAILED), so the TTL queue has a new name and the old one, which only
    held events nobody consumes, is deleted once the new one is bound (deleting a missing queue is a
    no-op, so every process may do this at every start)."""
    connection = broker._connection
    if connection is None:
        return
    channel = await connection.channel()
    try:
        await channel.queue_delete(topology.legacy_unrouted_queue)
    finally:
        await channel.close()


class EventPublisher:
    """Publishes serialised envelopes: persistent, mandatory, confirmed; raises if not confirmed."""

    def __init__(self, broker: RabbitBroker, topology: Topology) -> None:
        self.broker = broker
        self.exchange = events_exchange(topology)

    async def publish_raw(self, routing_key: str, body: bytes, *, event_id: str, correlation_id: str | None) -> None:
        headers: dict[str, Any] = {"x-routing-key": routing_key}
        await self.broker.publish(
            body,
            exchange=self.exchange,
            routing_key=routing_key,
            mandatory=True,
            persist=True,
            message_id=event_id,
            correlation_id=correlation_id,
            content_type="application/json",
            headers=headers,
            timeout=10.0,
        )
