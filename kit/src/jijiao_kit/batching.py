"""Batched consuming: for services whose events come in bursts.

The embedded store answers a few hundred single operations a second but thousands of documents in one
bulk request, so a consumer that takes one message at a time (``jijiao_kit.consuming``) is bounded by
store round trips. ``BatchConsumer`` reads the service's quorum queue itself and hands a *batch* of
envelopes to a ``BatchHandler``: up to ``batch_size`` messages, or what arrived within
``linger_seconds`` of the first one (a batch size of 1 consumes one by one). The guarantees:

- messages are acked only after ``handle_batch`` returned, i.e. after the batch's effects are stored;
- up to ``in_flight`` batches (2) are handled at once, so the handler must not depend on the order of
  events across batches (effects keyed on the event, counters conditional: DESIGN.md rules 2 and 3);
- a body that is not an event envelope is rejected at once (dead-lettered to the parking queue);
- a batch that raises is retried message by message; a message that fails alone is nacked and
  requeued, so the quorum queue's delivery limit parks a poison message while the others flow on;
- the correlation id of each envelope is set while it is handled alone, and every outcome is logged.

Effects must be keyed on the event (unique ids, upserts), as everywhere (DESIGN.md rule 2): a crash
between the effects and the acks redelivers the whole batch. ``BatchInbox`` is the bulk form of the
kit's ``Inbox`` (same collection and keys, so both paths see each other's work) for handlers whose
effect is not fully keyed on the event and must run once per event.

A handler that raises ``InvalidPayload`` (or pydantic's ``ValidationError``) for one event has it parked
at once (rejected without requeue: dead-lettered to the parking queue, the error logged). An event
whose inbox claim is held by another delivery (``HandlerBusy``) is set aside and retried on its own,
so one stuck claim never stalls the rest of its batch.

The worker builds its one consumer from a ``Consuming`` option (``jijiao_kit.worker``): one by one
(``Consuming.one_by_one``: a batch of one through the dispatcher) or in batches of a size.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from aio_pika.abc import AbstractIncomingMessage
from pydantic import ValidationError
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from jijiao_contracts import Envelope
from jijiao_kit.consuming import DispatchEach, EventDispatcher, HandlerBusy, Inbox, InvalidPayload
from jijiao_kit.correlation import set_correlation_id

logger = logging.getLogger(__name__)

DUPLICATE_KEY = 11000


class BatchHandler(Protocol):
    async def handle_batch(self, envelopes: Sequence[Envelope]) -> None:
        """Store the effects of all these envelopes (keyed on each event) or raise."""
        ...


@dataclass
class BatchStats:
    batches: int = 0
    handled: int = 0
    rejected: int = 0
    requeued: int = 0
    failed_batches: int = 0
    acked_together: int = 0  # batches settled by one multiple ack
    set_aside: int = 0  # events whose claim another delivery held, retried alone
    refused_after_stop: int = 0  # deliveries that arrived after the consumer stopped taking


class BatchConsumer:
    """Consumes one quorum queue in batches; see the module docstring for the guarantees."""

    def __init__(
        self,
        queue_name: str,
        handler: BatchHandler,
        *,
        batch_size: int = 200,
        linger_seconds: float = 0.02,
        prefetch_count: int | None = None,
        in_flight: int = 2,
        busy_retry_seconds: float = 1.0,
        busy_give_up_seconds: float = 45.0,
    ) -> None:
        if batch_size < 1 or in_flight < 1:
            raise ValueError("batch_size and in_flight must be at least 1")
        self.queue_name = queue_name
        self.handler = handler
        self.batch_size = batch_size
        self.linger_seconds = linger_seconds
        # Batches handled at once: while one waits for the store, the next is parsed and prepared
        # (the worker and the store each sat half idle with one batch at a time). Handlers are keyed
        # on events and order-independent (DESIGN rule 2), so two batches may interleave.
        self.in_flight = in_flight
        self.prefetch_count = prefetch_count or batch_size * (in_flight + 1)
        #: An event whose claim another delivery holds is retried alone this often, and requeued
        #: after this long (longer than the inbox lease, so a dead holder's claim has run out).
        self.busy_retry_seconds = busy_retry_seconds
        self.busy_give_up_seconds = busy_give_up_seconds
        self.stats = BatchStats()
        self._buffer: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._batches: set[asyncio.Task[None]] = set()
        self._set_aside: set[asyncio.Task[None]] = set()
        self._settled = _SettledTags()
        self.stopping = False

    async def feed(self, message: AbstractIncomingMessage) -> None:
        """Called by the queue's subscriber for each delivery; settled later, with its batch. After
        ``stop_taking`` a late delivery is left unsettled: it returns to the queue with the channel."""
        if self.stopping:
            self.stats.refused_after_stop += 1
            return
        await self._buffer.put(message)

    async def start(self) -> None:
        self.stopping = False
        self._task = asyncio.create_task(self._run(), name=f"batch-consumer:{self.queue_name}")
        logger.info("consumer on %s started (batch %d)", self.queue_name, self.batch_size)

    async def drain(self, timeout: float) -> bool:
        """Shutdown, once the subscription is cancelled (the broker sends nothing more): handle what was
        delivered already and finish the batches in flight (their acks go out), then take nothing more.
        What is left after ``timeout`` is cancelled and never settled: it returns to the queue with the
        channel (effects are keyed). True when everything delivered was handled in time."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while (not self._buffer.empty() or self._batches) and loop.time() < end:  # noqa: ASYNC110 - two sources
            await asyncio.sleep(0.02)
        await self.stop_taking()
        pending = self._batches | self._set_aside
        late: set[asyncio.Task[None]] = set()
        if pending:
            _, late = await asyncio.wait(pending, timeout=max(0.0, end - loop.time()))
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        return not late and self._buffer.empty()

    async def stop_taking(self) -> None:
        """Take no more batches. Deliveries still in the buffer (or arriving later) are never handled nor
        settled: they go back to the queue when the broker's channel closes."""
        self.stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def unsettled_after_stop(self) -> int:
        """Deliveries this consumer received but will not settle (they return with the channel)."""
        return self.stats.refused_after_stop + self._buffer.qsize()

    async def stop(self) -> None:
        """Stop at once: nothing more is taken, batches in flight are cancelled (they return unacked)."""
        await self.drain(0)

    async def _take(self) -> list[AbstractIncomingMessage]:
        loop = asyncio.get_running_loop()
        batch = [await self._buffer.get()]
        deadline = loop.time() + self.linger_seconds
        while len(batch) < self.batch_size:
            if not self._buffer.empty():
                batch.append(self._buffer.get_nowait())
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._buffer.get(), timeout=remaining))
            except TimeoutError:
                break
        return batch

    async def _run(self) -> None:
        slots = asyncio.Semaphore(self.in_flight)
        while True:
            await slots.acquire()
            try:
                batch = await self._take()
            except BaseException:
                slots.release()
                raise
            task = asyncio.create_task(self._settle(batch, slots))
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)

    async def _settle(self, batch: list[AbstractIncomingMessage], slots: asyncio.Semaphore) -> None:
        try:
            await self.process(batch)
        except asyncio.CancelledError:
            raise
        except Exception:  # a lost channel: unacked messages come back, effects are keyed
            logger.exception("settling a batch of %d failed; the broker redelivers it", len(batch))
        finally:
            slots.release()

    async def process(self, batch: Sequence[AbstractIncomingMessage]) -> None:
        parsed: list[tuple[AbstractIncomingMessage, Envelope]] = []
        for message in batch:
            try:
                parsed.append((message, Envelope.model_validate_json(message.body)))
            except ValidationError:
                logger.error("rejecting a message that is not an event envelope (id=%s)", message.message_id)
                await self._park(message)
        while parsed:
            envelopes = [envelope for _, envelope in parsed]
            correlations = {envelope.correlation_id for envelope in envelopes}
            set_correlation_id(correlations.pop() if len(correlations) == 1 else None)
            try:
                await self.handler.handle_batch(envelopes)
            except HandlerBusy as busy:  # set that one event aside; the rest go on at once
                stuck = [item for item in parsed if item[1].event_id == busy.event_id]
                if not stuck or len(parsed) == 1:
                    self._retry_alone(parsed)
                    return
                self._retry_alone(stuck)
                parsed = [item for item in parsed if item[1].event_id != busy.event_id]
                continue
            except Exception as exc:
                if len(parsed) == 1:
                    await self._failed_alone(*parsed[0], exc)
                    return
                self.stats.failed_batches += 1
                logger.exception("batch of %d failed; retrying one by one", len(parsed))
                await self._one_by_one(parsed)
                return
            await self._ack_all([message for message, _ in parsed])
            self.stats.batches += 1
            self.stats.handled += len(parsed)
            if len(parsed) == 1:
                logger.info("consumed %s %s", parsed[0][1].routing_key, parsed[0][1].event_id)
            else:
                logger.info("consumed a batch of %d events", len(parsed))
            return

    async def _park(self, message: AbstractIncomingMessage) -> None:
        await message.reject(requeue=False)
        self._settled.add(message)
        self.stats.rejected += 1

    async def _one_by_one(self, parsed: Sequence[tuple[AbstractIncomingMessage, Envelope]]) -> None:
        for message, envelope in parsed:
            set_correlation_id(envelope.correlation_id)
            try:
                await self.handler.handle_batch([envelope])
            except Exception as exc:
                await self._failed_alone(message, envelope, exc)
                continue
            await message.ack()
            self._settled.add(message)
            self.stats.handled += 1
            logger.info("consumed %s %s", envelope.routing_key, envelope.event_id)

    async def _failed_alone(self, message: AbstractIncomingMessage, envelope: Envelope, exc: Exception) -> None:
        """Settle one event whose handling failed on its own: park what can never succeed, set aside
        what another delivery holds, requeue the rest (the delivery limit parks a persistent failure)."""
        if isinstance(exc, InvalidPayload | ValidationError):
            logger.error(
                "parking %s %s: its payload is invalid and can never succeed: %s",
                envelope.routing_key,
                envelope.event_id,
                exc,
            )
            await self._park(message)
        elif isinstance(exc, HandlerBusy):
            self._retry_alone([(message, envelope)])
        else:
            logger.error("handling %s %s failed; requeueing", envelope.routing_key, envelope.event_id, exc_info=exc)
            await message.nack(requeue=True)
            self._settled.add(message)
            self.stats.requeued += 1

    def _retry_alone(self, items: Sequence[tuple[AbstractIncomingMessage, Envelope]]) -> None:
        for message, envelope in items:
            self.stats.set_aside += 1
            task = asyncio.create_task(self._busy_retry(message, envelope))
            self._set_aside.add(task)
            task.add_done_callback(self._set_aside.discard)

    async def _busy_retry(self, message: AbstractIncomingMessage, envelope: Envelope) -> None:
        """An event another delivery is handling (or a dead holder's claim not run out yet): retried
        alone until the claim is free, without holding a batch slot; requeued if it never frees."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.busy_give_up_seconds
        while not self.stopping and loop.time() < give_up:
            await asyncio.sleep(self.busy_retry_seconds)
            try:
                await self.handler.handle_batch([envelope])
            except HandlerBusy:
                continue
            except Exception:
                break
            await message.ack()
            self._settled.add(message)
            self.stats.handled += 1
            logger.info("consumed %s %s (after its claim was freed)", envelope.routing_key, envelope.event_id)
            return
        if self.stopping:  # left unsettled: back to the queue with the channel
            return
        await self._one_by_one([(message, envelope)])

    async def _ack_all(self, messages: Sequence[AbstractIncomingMessage]) -> None:
        """One ``multiple`` ack when it covers exactly these messages: every delivery tag of the channel
        up to the batch's highest is in the batch or already settled. Deliveries are handed over by
        one task each, so the order is not guaranteed; otherwise every message is acked alone."""
        last = max(messages, key=lambda message: message.delivery_tag or 0)
        if self._settled.covers(messages):
            await last.ack(multiple=True)
            self.stats.acked_together += 1
            for message in messages:
                self._settled.add(message)
            return
        for message in messages:
            await message.ack()
            self._settled.add(message)


class _SettledTags:
    """Which delivery tags of the consumer's current channel are settled: all below ``floor`` and the
    ones in ``above``. Tags restart on a new channel (after a reconnect), so the record does too."""

    def __init__(self) -> None:
        self.channel: object | None = None
        self.floor = 1
        self.above: set[int] = set()

    def _follow(self, message: AbstractIncomingMessage) -> None:
        if message.channel is not self.channel:
            self.channel, self.floor, self.above = message.channel, 1, set()

    def covers(self, messages: Sequence[AbstractIncomingMessage]) -> bool:
        if any(message.delivery_tag is None or message.channel is not messages[0].channel for message in messages):
            return False
        self._follow(messages[0])
        tags = {int(message.delivery_tag or 0) for message in messages}
        return all(tag in tags or tag in self.above for tag in range(self.floor, max(tags) + 1))

    def add(self, message: AbstractIncomingMessage) -> None:
        if message.delivery_tag is None:
            return
        self._follow(message)
        self.above.add(int(message.delivery_tag))
        while self.floor in self.above:
            self.above.discard(self.floor)
            self.floor += 1


class BatchInbox:
    """The kit ``Inbox`` in bulk: which (handler, event) pairs are done. Same collection and keys
    (``<handler>:<event_id>``, ``state: "done"``) as ``jijiao_kit.consuming.Inbox``.

    There is no claim: two deliveries of one event handled at the same moment may both run, so the
    effect must be keyed on the event; the inbox only keeps a completed event from running again."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], collection: str = "inbox") -> None:
        self.collection = db[collection]

    async def done(self, handler: str, event_ids: Iterable[str]) -> set[str]:
        """The event ids among ``event_ids`` that ``handler`` has completed."""
        keys = [f"{handler}:{event_id}" for event_id in event_ids]
        if not keys:
            return set()
        cursor = self.collection.find({"_id": {"$in": keys}, "state": "done"}, {"_id": 1})
        prefix = len(handler) + 1
        return {doc["_id"][prefix:] async for doc in cursor}

    async def mark_done(self, handler: str, event_ids: Iterable[str]) -> None:
        """Record the events as done: one unordered insert (cheaper than upserts on the embedded store);
        keys that exist already (a claim of the one-at-a-time path, an earlier mark) are set done."""
        now = datetime.now(UTC)
        keys = list(dict.fromkeys(f"{handler}:{event_id}" for event_id in event_ids))
        if not keys:
            return
        try:
            await self.collection.insert_many(
                [{"_id": key, "state": "done", "handled_at": now} for key in keys], ordered=False
            )
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise
            existing = [keys[error["index"]] for error in errors]
            await self.collection.update_many(
                {"_id": {"$in": existing}, "state": {"$ne": "done"}}, {"$set": {"state": "done", "handled_at": now}}
            )


@dataclass(frozen=True)
class Consuming:
    """How a worker consumes its service's queue: which events, by which handler, in batches of what
    size (1: one by one). The worker builds its one consumer from it (``jijiao_kit.worker``)."""

    handler: BatchHandler
    routing_keys: tuple[str, ...]
    batch_size: int = 1
    linger_seconds: float = 0.02
    in_flight: int = 2
    #: The inboxes whose claims the handler takes: the worker gives them its heartbeat, so a claim
    #: names its holder and a dead holder's claim is taken over at once (``jijiao_kit.liveness``).
    inboxes: tuple[Inbox, ...] = ()

    @classmethod
    def one_by_one(cls, dispatcher: EventDispatcher, inbox: Inbox) -> Consuming:
        """Each event through the dispatcher's handlers and the inbox, one at a time."""
        return cls(DispatchEach(dispatcher, inbox), tuple(dispatcher.routing_keys()), inboxes=(inbox,))

    @classmethod
    def in_batches(
        cls,
        handler: BatchHandler,
        routing_keys: Iterable[str],
        *,
        batch_size: int,
        linger_seconds: float = 0.02,
        inboxes: Iterable[Inbox] = (),
    ) -> Consuming:
        return cls(
            handler,
            tuple(sorted(set(routing_keys))),
            batch_size=batch_size,
            linger_seconds=linger_seconds,
            inboxes=tuple(inboxes),
        )
