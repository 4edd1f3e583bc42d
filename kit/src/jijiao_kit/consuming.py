"""Idempotent consuming (DESIGN.md rule 2).

Each service has one quorum queue and one consumer (``jijiao_kit.batching.BatchConsumer``, built by the
worker from its ``Consuming`` option: one by one or in batches). Handlers are registered once per
event class on an ``EventDispatcher``, which runs them by routing key. A handler's effect must itself
be keyed on the event (an upsert, a unique index on the source event); the inbox records handled
events so a redelivery skips the work, and a crash between the effect and the inbox mark only repeats
an effect that is idempotent anyway.

A payload is validated before its inbox claim is taken (an invalid one raises ``InvalidPayload`` and
is parked at once), and a claim is released on every failure path. Acknowledgement is manual: ack
after the handlers' effects are stored; nack with requeue on an error (the quorum queue's delivery
limit then dead-letters a poison message into the parking queue); reject at once what can never
succeed (a body that is not an envelope, an invalid payload).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import ValidationError
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from jijiao_contracts import Envelope, IntegrationEvent
from jijiao_kit.correlation import set_correlation_id
from jijiao_kit.liveness import Liveness
from jijiao_kit.timeutil import epoch_ms

logger = logging.getLogger(__name__)

E = TypeVar("E", bound=IntegrationEvent)
Handler = Callable[[Any, Envelope], Awaitable[None]]


@dataclass(frozen=True)
class _Registration:
    name: str
    event_class: type[IntegrationEvent]
    handler: Handler


class Inbox:
    """Which (handler, event) pairs are done, with a claim so that two deliveries of one event
    processed at the same time (two replicas, a republished event) run the handler once.

    A claim is a lease that names its holder (``jijiao_kit.liveness``; the worker sets ``liveness``):
    if the holder dies mid-effect, a redelivery takes the claim over at once when the holder's
    heartbeat is gone, and in any case once the lease has run out; a live holder keeps its claim for
    the whole lease. The effect itself must still tolerate a repeat (keyed on the event, DESIGN.md
    rule 2): a holder whose heartbeat lapsed while it was working may still finish."""

    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        collection: str = "inbox",
        *,
        lease_seconds: float = 30.0,
        liveness: Liveness | None = None,
    ) -> None:
        self.collection = db[collection]
        self.lease = timedelta(seconds=lease_seconds)
        #: This process's heartbeat; without it (an API process, a test) claims name no holder and
        #: are taken over only when their lease runs out.
        self.liveness = liveness

    async def claim(self, handler: str, event_id: str) -> str:
        """``"run"`` (this delivery must run the handler, then ``complete`` or ``release``, then
        ``let_go``), ``"done"`` or ``"busy"``."""
        key = f"{handler}:{event_id}"
        now = epoch_ms(datetime.now(UTC))
        lease_until = now + int(self.lease.total_seconds() * 1000)
        holder = self.liveness.holder if self.liveness is not None else None
        claim: dict[str, Any] = {"state": "processing", "lease_until_ms": lease_until}
        if holder is not None:
            claim["holder"] = holder
        self._take(key)  # in hand before the write: another delivery in this process sees it held
        try:
            await self.collection.insert_one({"_id": key, **claim})
        except DuplicateKeyError:
            self._let_go(key)
        except BaseException:
            self._let_go(key)  # perhaps written with its answer lost: taken back on a redelivery
            raise
        else:
            return "run"
        doc = await self.collection.find_one({"_id": key}, {"state": 1, "lease_until_ms": 1, "holder": 1})
        if doc is None:  # released by a failed holder just now
            return await self.claim(handler, event_id)
        if doc.get("state") == "done":
            return "done"
        # Lease times are epoch milliseconds: a datetime written by $set would come back a string.
        held_until = int(doc.get("lease_until_ms") or 0)
        if held_until >= now and not await self._abandoned(key, doc.get("holder")):
            return "busy"
        # Take over: a compare-and-set on the lease (and holder) read, so of two takers one wins.
        expected: dict[str, Any] = {"_id": key, "state": "processing", "lease_until_ms": held_until}
        if doc.get("holder"):
            expected["holder"] = doc["holder"]
        update: dict[str, Any] = {"$set": claim}
        if holder is None and doc.get("holder"):
            update["$unset"] = {"holder": ""}
        self._take(key)
        try:
            taken = await self.collection.find_one_and_update(expected, update)
        except BaseException:
            self._let_go(key)
            raise
        if taken is None:
            self._let_go(key)
            return "busy"
        if held_until >= now:
            logger.warning("took over %s from %s, which no longer holds it", key, doc.get("holder"))
        return "run"

    async def _abandoned(self, key: str, holder: str | None) -> bool:
        """Whether a claim whose lease runs on is held by no one: its holder's heartbeat is gone, or
        its holder is this process and it is not in hand here."""
        if not holder or self.liveness is None:
            return False
        if holder == self.liveness.holder:
            return not self.liveness.holds(self._hand_key(key))
        return holder in await self.liveness.dead([holder])

    def _hand_key(self, key: str) -> str:
        return f"{self.collection.full_name}:{key}"

    def _take(self, key: str) -> None:
        if self.liveness is not None:
            self.liveness.take(self._hand_key(key))

    def _let_go(self, key: str) -> None:
        if self.liveness is not None:
            self.liveness.let_go(self._hand_key(key))

    def let_go(self, handler: str, event_id: str) -> None:
        """The delivery that claimed ``"run"`` is finished with the claim (completed, released, or
        failed to do either: then this process takes it back at once on a redelivery)."""
        self._let_go(f"{handler}:{event_id}")

    async def complete(self, handler: str, event_id: str) -> None:
        await self.collection.update_one(
            {"_id": f"{handler}:{event_id}"}, {"$set": {"state": "done", "handled_at": datetime.now(UTC)}}
        )

    async def release(self, handler: str, event_id: str) -> None:
        await self.collection.delete_one({"_id": f"{handler}:{event_id}", "state": "processing"})

    async def seen(self, handler: str, event_id: str) -> bool:
        doc = await self.collection.find_one({"_id": f"{handler}:{event_id}"}, {"state": 1})
        return doc is not None and doc.get("state") == "done"


class EventDispatcher:
    """A small message bus: handlers registered per event class, dispatched by routing key."""

    def __init__(self) -> None:
        self._by_key: dict[str, list[_Registration]] = {}

    def handles(self, event_class: type[E], name: str | None = None) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            registration = _Registration(name or handler.__name__, event_class, handler)
            self._by_key.setdefault(event_class.routing_key(), []).append(registration)
            return handler

        return register

    def routing_keys(self) -> list[str]:
        return sorted(self._by_key)

    async def dispatch(self, envelope: Envelope, inbox: Inbox, *, busy_wait_seconds: float = 1.0) -> int:
        """Run every handler of this event that has not run yet; returns how many ran here.

        The payload is validated before any claim is taken: an invalid one raises ``InvalidPayload``
        (it can never succeed; the consumer parks it at once) and leaves no claim behind. Raises
        ``HandlerBusy`` when another delivery still holds a claim after ``busy_wait_seconds``; a claim
        taken here is released on every failure (an exception or a cancellation) before it propagates."""
        registrations = self._by_key.get(envelope.routing_key, [])
        events: list[IntegrationEvent] = []
        for registration in registrations:
            try:
                events.append(envelope.payload_as(registration.event_class))
            except ValidationError as exc:
                raise InvalidPayload(envelope.event_id, str(exc)) from exc
        ran = 0
        for registration, event in zip(registrations, events, strict=True):
            state = await inbox.claim(registration.name, envelope.event_id)
            waited = 0.0
            while state == "busy" and waited < busy_wait_seconds:
                await asyncio.sleep(0.05)
                waited += 0.05
                state = await inbox.claim(registration.name, envelope.event_id)
            if state == "done":
                continue
            if state == "busy":
                raise HandlerBusy(envelope.event_id, f"{registration.name} is still handling {envelope.event_id}")
            try:
                await registration.handler(event, envelope)
                await inbox.complete(registration.name, envelope.event_id)
            except BaseException:
                await asyncio.shield(inbox.release(registration.name, envelope.event_id))
                raise
            finally:
                inbox.let_go(registration.name, envelope.event_id)
            ran += 1
        return ran


class HandlerBusy(Exception):
    """Another delivery of the same event is being handled right now."""

    def __init__(self, event_id: str, message: str) -> None:
        super().__init__(message)
        self.event_id = event_id


class InvalidPayload(Exception):
    """An event whose payload does not validate against its class: it can never succeed."""

    def __init__(self, event_id: str, error: str) -> None:
        super().__init__(f"event {event_id}: invalid payload: {error}")
        self.event_id = event_id


class DispatchEach:
    """The consumer's handler for a service that consumes one event at a time: each envelope of a
    delivery goes through the dispatcher and the inbox (a batch of one, see ``jijiao_kit.worker``)."""

    def __init__(self, dispatcher: EventDispatcher, inbox: Inbox) -> None:
        self.dispatcher = dispatcher
        self.inbox = inbox

    async def handle_batch(self, envelopes: Sequence[Envelope]) -> None:
        for envelope in envelopes:
            set_correlation_id(envelope.correlation_id)
            await self.dispatcher.dispatch(envelope, self.inbox)


async def the_message(message: Any) -> Any:
    """Decoder that hands the handler the delivery itself (the handler reads, acks and rejects it).

    Taking the delivery as a ``RabbitMessage`` parameter instead goes through FastStream's context,
    a synchronous custom field that fast_depends resolves in a worker thread for every message: a
    thread hop per delivery, about a third of a consuming worker's CPU in the selection storm."""
    return message
