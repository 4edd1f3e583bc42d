"""The hours worker's queue consumer, in batches.

The hours service takes the highest event volume of the system (every result, every points fact), and
the store answers a few hundred single operations a second but thousands of operations in one bulk
request. So instead of the kit's one-message-at-a-time subscriber, this consumer takes up to
``batch_size`` messages (or what arrived within ``linger_seconds``), applies the high-volume events with
bulk writes (roster copies, hour facts, points facts; each effect keyed on its fact, so redelivery is
harmless), runs every other event through the kit's dispatcher with its inbox, and only then acks.

A batch that fails is retried message by message: a message that fails alone is nacked and requeued, so
the quorum queue's delivery limit parks a poison message; a body that is not an envelope is rejected at
once (dead-lettered to parking)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from pydantic import ValidationError

from hours.service_layer.batch import BatchHandlers
from jijiao_contracts import Envelope, Topology
from jijiao_kit.consuming import EventDispatcher, Inbox
from jijiao_kit.correlation import set_correlation_id

logger = logging.getLogger(__name__)


class BatchConsumer:
    def __init__(
        self,
        rabbitmq_url: str,
        topology: Topology,
        service: str,
        handlers: BatchHandlers,
        dispatcher: EventDispatcher,
        inbox: Inbox,
        *,
        batch_size: int,
        linger_seconds: float = 0.02,
    ) -> None:
        self.rabbitmq_url = rabbitmq_url
        self.queue_name = topology.service_queue(service)
        self.handlers = handlers
        self.dispatcher = dispatcher
        self.inbox = inbox
        self.batch_size = batch_size
        self.linger_seconds = linger_seconds
        self._buffer: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._connection: Any = None
        self.handled = 0

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(self.rabbitmq_url)
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=self.batch_size * 2)
        queue = await channel.get_queue(self.queue_name, ensure=True)
        await queue.consume(self._buffer.put, no_ack=False)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._connection is not None:
            await self._connection.close()  # unacked messages go back to the queue

    async def _take(self) -> list[AbstractIncomingMessage]:
        batch = [await self._buffer.get()]
        deadline = asyncio.get_running_loop().time() + self.linger_seconds
        while len(batch) < self.batch_size:
            remaining = deadline - asyncio.get_running_loop().time()
            if self._buffer.empty() and remaining <= 0:
                break
            try:
                batch.append(
                    self._buffer.get_nowait()
                    if not self._buffer.empty()
                    else await asyncio.wait_for(self._buffer.get(), timeout=max(remaining, 0.001))
                )
            except TimeoutError:
                break
        return batch

    async def _run(self) -> None:
        while True:
            batch = await self._take()
            parsed: list[tuple[AbstractIncomingMessage, Envelope]] = []
            for message in batch:
                try:
                    parsed.append((message, Envelope.model_validate_json(message.body)))
                except ValidationError:
                    logger.error("rejecting a message that is not an event envelope (id=%s)", message.message_id)
                    await message.reject(requeue=False)
            if not parsed:
                continue
            try:
                await self.handlers.handle([envelope for _, envelope in parsed], self.dispatcher, self.inbox)
            except Exception:
                logger.exception("batch of %d failed; retrying one by one", len(parsed))
                await self._one_by_one(parsed)
                continue
            for message, _ in parsed:
                await message.ack()
            self.handled += len(parsed)

    async def _one_by_one(self, parsed: list[tuple[AbstractIncomingMessage, Envelope]]) -> None:
        for message, envelope in parsed:
            set_correlation_id(envelope.correlation_id)
            try:
                await self.handlers.handle([envelope], self.dispatcher, self.inbox)
            except Exception:
                logger.exception("handling %s %s failed; requeueing", envelope.routing_key, envelope.event_id)
                await message.nack(requeue=True)
                continue
            await message.ack()
            self.handled += 1
