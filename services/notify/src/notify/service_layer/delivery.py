"""Sending pending notices: the delivery job of the worker.

Notices created by this worker's consumer are inserted already claimed and handed over as they are
(``handover``); a periodic scan finds the rest (retries, deferred notices, codes created by the API
process, notices whose sender died: at once when the worker's heartbeat is gone (``jijiao_kit.liveness``),
else once their lease ran out), claimed in one bulk write of conditional
updates with a claim token (so replicas never send one notice twice at the same time). Channels that
take a batch (the development sink) get the whole batch in one call and the outcomes are written in one
bulk write, their events in one record written first (``outcomes.OutcomeFinisher``); the others (HTTP gateway, SMTP) send up to ``delivery_concurrency`` at once, each bounded by
``send_timeout_seconds`` and finished as soon as its provider answered. A provider error schedules the
next attempt with exponential backoff and jitter; after ``delivery_max_attempts`` (or a final refusal)
the notice is ``failed`` with its error and attempts, and a NoticeFailed event leaves through the
outbox — never silent. One notice at a time, a success writes ``sent`` and NoticeSent in the same
single-document update."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pymongo.errors import ConnectionFailure

from jijiao_contracts.events.notify import PRODUCER, NoticeFailed, NoticeSent
from jijiao_kit.clock import Clock
from jijiao_kit.liveness import Liveness
from jijiao_kit.outbox import outbox_entry
from notify.adapters.channels import BatchChannel, Channel, Outgoing, ProviderError, RejectedError, StatusQuery
from notify.adapters.repositories import Messages
from notify.adapters.throttle import SlidingLimiter
from notify.domain.schedule import backoff_seconds, epoch
from notify.domain.templates import TEMPLATES
from notify.service_layer.outcomes import Outcome, OutcomeFinisher
from notify.service_layer.sealed_sends import opener
from notify.settings import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

RATE_WINDOW_SECONDS = 3600
#: At most this many notices being sent are read by one scan for claims no live sender holds.
SENDING_SCAN_LIMIT = 5000


class DeliveryService:
    def __init__(
        self,
        messages: Messages,
        channels: dict[str, Channel],
        limiter: SlidingLimiter,
        clock: Clock,
        settings: Settings,
        finisher: OutcomeFinisher,
        rng: random.Random | None = None,
        *,
        liveness: Liveness | None = None,
    ) -> None:
        self.messages = messages
        self.finisher = finisher
        self.channels = channels
        self.limiter = limiter
        self.clock = clock
        self.settings = settings
        self.rng = rng or random.Random()
        #: The worker's heartbeat: its claims name it; a dead worker's claims are released at the next
        #: scan instead of after their lease; nothing is sent while this one's own heartbeat is stale.
        self.liveness = liveness
        self.holder = liveness.holder if liveness is not None else None
        self.quiet = settings.quiet_hours()
        self._slots = asyncio.Semaphore(settings.delivery_concurrency)
        self._handed: deque[tuple[float, dict[str, Any]]] = deque()  # (monotonic time handed, notice)
        #: Notices this process is working on besides those handed (being inserted claimed, claimed by
        #: a scan, being sent): with ``_handed``, every claim of this holder it still knows of. A claim
        #: of this holder it does not know of (a write applied whose answer was lost with the store, a
        #: send that failed) is given back at the next scan instead of waiting for its lease.
        self._in_hand: Counter[str] = Counter()
        self._room = asyncio.Event()
        self._arrived = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None
        self._stopping = False
        self._last_scan = 0.0

    @contextlib.contextmanager
    def holding(self, ids: Iterable[str]) -> Iterator[None]:
        """Mark notices as in this process's hands while the block runs (the consumer inserting them
        claimed and handing them over; a scan claiming and sending them)."""
        ids = list(ids)
        self._in_hand.update(ids)
        try:
            yield
        finally:
            self._in_hand.subtract(ids)
            for key in ids:
                if self._in_hand[key] <= 0:
                    del self._in_hand[key]

    def _in_hand_ids(self) -> set[str]:
        return set(self._in_hand) | {doc["_id"] for _, doc in self._handed}

    async def handover(self, docs: list[dict[str, Any]]) -> None:
        """Notices this process's consumer created already claimed: sent as they are, without a claim
        write or a read. The consumer waits while ``delivery_backlog`` notices are still waiting (so
        it never runs far ahead of sending and leases stay young), at most a quarter of the lease."""
        if len(self._handed) >= self.settings.delivery_backlog:
            self._room.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._room.wait(), timeout=self.settings.delivery_lease_seconds / 4)
        handed_at = time.monotonic()
        self._handed.extend((handed_at, doc) for doc in docs)
        self._arrived.set()

    async def start_sending(self) -> None:
        """Worker start: notices handed over are sent as soon as they arrive, by a task of this process
        (they are claimed by it, so no lock between replicas is needed), instead of waiting for the
        delivery job's next tick; the job keeps the scans (and sends what is handed if this task is not
        running: the API process, tests)."""
        self._stopping = False
        self._sender = asyncio.create_task(self._send_handed_forever(), name="notify-send-handed")

    async def stop_sending(self) -> None:
        """Worker stop: the batch being sent is finished (bounded by the send timeout), then the task ends."""
        sender, self._sender = self._sender, None
        if sender is None:
            return
        self._stopping = True
        self._arrived.set()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(sender, timeout=self.settings.send_timeout_seconds + 5)

    async def _send_handed_forever(self) -> None:
        while not self._stopping:
            await self._arrived.wait()
            self._arrived.clear()
            while self._handed and not self._stopping:
                try:
                    await self._deliver_handed(self._take_handed())
                except Exception:  # those notices keep their lease: the scan takes them after it
                    logger.exception("sending handed-over notices failed; left to their lease")

    async def release_handed(self) -> int:
        """At shutdown: notices handed over but not taken yet go back to pending at once (instead of
        waiting for their lease), so another replica or the next start sends them."""
        docs = [doc for _, doc in self._handed]
        self._handed.clear()
        self._room.set()
        now = self.clock.now()
        return await self.messages.release_claimed(docs, now, self.quiet.not_before(now))

    def _take_handed(self) -> list[tuple[float, dict[str, Any]]]:
        taken = [self._handed.popleft() for _ in range(min(len(self._handed), self.settings.delivery_batch_size))]
        if len(self._handed) < self.settings.delivery_backlog:
            self._room.set()
        return taken

    async def run_once(self) -> int:
        """One pass: the notices handed over, then one scan for due notices (retries, deferred ones,
        notices of other processes); returns how many were taken (sent, retried, failed or deferred)."""
        total = 0
        while self._handed:
            total += await self._deliver_handed(self._take_handed())
        ids = await self.messages.due_ids(self.clock.now(), self.settings.delivery_batch_size)
        return total + await self._deliver_many(ids)

    async def _deliver_many(self, ids: list[str]) -> int:
        """Claim the due ones among ``ids`` in one bulk write, then send them."""
        if not ids:
            return 0
        now = self.clock.now()
        lease_until = now + timedelta(seconds=self.settings.delivery_lease_seconds)
        with self.holding(ids):
            docs = await self.messages.claim_many(ids, now, lease_until, self.holder)
            return await self._deliver_claimed(docs)

    async def _deliver_handed(self, handed: list[tuple[float, dict[str, Any]]]) -> int:
        """Handed-over notices whose lease is still young; one that waited longer than half the lease
        is not sent from memory but left to its lease, after which the scan takes it again."""
        young = time.monotonic() - self.settings.delivery_lease_seconds / 2
        fresh = [doc for handed_at, doc in handed if handed_at > young]
        if len(fresh) < len(handed):
            logger.warning("%d handed-over notices waited too long; left to the scan", len(handed) - len(fresh))
        # Taken from ``_handed`` and marked in hand with no await between: a scan never sees them in neither.
        with self.holding(doc["_id"] for doc in fresh):
            return await self._deliver_claimed(fresh)

    async def _deliver_claimed(self, docs: list[dict[str, Any]]) -> int:
        """Send claimed notices: channels that take a batch (the development sink) in one call with one
        bulk write of the outcomes; the others (HTTP gateway, SMTP) one message at a time, each finished
        as soon as its provider answered."""
        if not docs:
            return 0
        if self.liveness is not None and self.liveness.stale():
            # Our heartbeat may have run out: another worker may be taking these claims over, so
            # sending now could send twice. They are left to the takeover or to the next scan.
            logger.warning("heartbeat not renewed lately; %d claimed notices not sent now", len(docs))
            return 0
        ready, deferred = await self._held(docs)
        finishes = list(deferred)
        singles: list[dict[str, Any]] = []
        batched: dict[str, list[dict[str, Any]]] = {}
        for doc in ready:
            if isinstance(self.channels[doc["channel"]], BatchChannel):
                batched.setdefault(doc["channel"], []).append(doc)
            else:
                singles.append(doc)
        for channel, group in batched.items():
            finishes.extend(await self._send_batch(channel, group))
        await asyncio.gather(
            self._stored(lambda: self.finisher.finish(finishes, epoch(self.clock.now()))),
            *(self._guarded_send(doc) for doc in singles),
        )
        return len(docs)

    async def drain(self) -> int:
        """The delivery job's pass: handed-over notices, a scan every ``delivery_scan_seconds`` (the
        scan costs the embedded store a pass over the collection, so it is not run on every tick);
        until nothing is left or the pass has run ``delivery_drain_seconds``."""
        deadline = time.monotonic() + self.settings.delivery_drain_seconds
        total = 0
        if time.monotonic() - self._last_scan >= self.settings.delivery_scan_seconds:
            self._last_scan = time.monotonic()
            # Records left behind first: a notice finished by one is then no longer ``sending``.
            # So are the claims and records of workers whose heartbeat is gone (a SIGKILLed sender),
            # and this worker's own claims it no longer holds: at once, not after their lease, which a
            # live sender keeps on what it is sending however slow its provider.
            dead, abandoned = await self._abandoned()
            now = epoch(self.clock.now())
            await self.finisher.recover(now - self.settings.delivery_lease_seconds / 4, dead_holders=dead)
            released_at = self.clock.now()
            not_before = self.quiet.not_before(released_at)
            total += await self.messages.release_stale(released_at, self.settings.delivery_batch_size, not_before)
            released = await self.messages.release_claims(abandoned, released_at, not_before)
            if released:
                logger.warning(
                    "gave back %d claimed notices no live sender holds (dead senders: %s)", released, sorted(dead)
                )
            total += released
            while time.monotonic() < deadline:
                ids = await self.messages.due_ids(self.clock.now(), self.settings.delivery_batch_size)
                done = await self._deliver_many(ids)
                total += done
                if done < self.settings.delivery_batch_size:
                    break
        while self._handed and time.monotonic() < deadline:
            total += await self._deliver_handed(self._take_handed())
        return total

    async def _abandoned(self) -> tuple[set[str], list[dict[str, Any]]]:
        """The senders named by notices being sent or records left whose heartbeat is gone, and the
        notices being sent that no live sender holds: those of the dead, and this worker's own that
        it no longer has in hand (known only after the read: what it held then it holds still, or
        has finished, which the release's condition on the claim read then refuses)."""
        if self.liveness is None:
            return set(), []
        sending = await self.messages.sending(SENDING_SCAN_LIMIT)
        others = {doc["holder"] for doc in sending if doc.get("holder") and doc["holder"] != self.holder}
        others |= await self.finisher.records.holders_other_than(self.holder)
        dead = await self.liveness.dead(others)
        in_hand = self._in_hand_ids()
        abandoned = [
            doc
            for doc in sending
            if doc.get("holder") in dead or (doc.get("holder") == self.holder and doc["_id"] not in in_hand)
        ]
        return dead, abandoned

    async def _guarded_send(self, doc: dict[str, Any]) -> None:
        async with self._slots:
            try:
                update = (await self._send_one(doc)).in_document()
                await self._stored(lambda: self.messages.finish(doc["_id"], update))
            except Exception:  # one bad notice must not stop the others; the scan gives it back
                logger.exception("delivering notice %s failed unexpectedly", doc["_id"])

    async def _stored(self, write: Callable[[], Awaitable[T]]) -> T:
        """A finishing write after the provider calls: the notices went out, so their outcome is kept
        trying while the store is unreachable (up to half the lease, the notices still in hand, so no
        scan gives them back), instead of failing at once and having them sent again."""
        deadline = time.monotonic() + self.settings.delivery_lease_seconds / 2
        delay = 0.2
        while True:
            try:
                return await write()
            except ConnectionFailure as exc:
                if time.monotonic() + delay > deadline:
                    raise
                logger.warning("storing the outcome of sent notices failed (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(2 * delay, 2.0)

    async def deliver(self, key: str) -> int:
        """Claim and send one notice now (the API sends a verification code this way)."""
        now = self.clock.now()
        with self.holding([key]):
            doc = await self.messages.claim(
                key, now, now + timedelta(seconds=self.settings.delivery_lease_seconds), self.holder
            )
            if doc is None:
                return 0
            _, deferred = await self._held([doc])
            if deferred:
                await self.messages.finish_many([(key, outcome.update) for key, outcome in deferred])
            else:
                await self.messages.finish(key, (await self._send_one(doc)).in_document())
            return 1

    async def _held(self, docs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[tuple[str, Outcome]]]:
        """Split claimed notices into those that may go now and the deferral updates of the others:
        non-urgent notices in quiet hours (a last guard: every scheduling already avoids them, but a
        notice due at 21:59:59 may be taken at 22:00), then the per-recipient rate limit."""
        now = self.clock.now()
        quiet_until = self.quiet.not_before(now)
        if quiet_until == now:
            return await self._rate_limited(docs)
        urgent = [doc for doc in docs if doc.get("urgent")]
        quiet = [(doc["_id"], self._deferral(now, quiet_until, "quiet_hours")) for doc in docs if not doc.get("urgent")]
        ready, limited = await self._rate_limited(urgent)
        return ready, quiet + limited

    def _deferral(self, now: datetime, until: datetime, reason: str) -> Outcome:
        return Outcome(
            {
                "$set": {
                    "status": "pending",
                    "next_attempt_at": until,
                    "due_ts": epoch(until),
                    "deferred_until": until,
                    "deferred_reason": reason,
                    "updated_at": now,
                }
            }
        )

    async def _rate_limited(self, docs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[tuple[str, Outcome]]]:
        """Split claimed notices into those that may go now and the deferral updates of the others
        (per-recipient sliding window in Redis; urgent notices are not limited). A deferral that ends
        in quiet hours waits until their end."""
        now = self.clock.now()
        limited = [doc for doc in docs if not doc.get("urgent")]
        if not limited:
            return docs, []
        decisions = await self.limiter.take_many(
            [f"rate:{doc['to']}" for doc in limited],
            now=now.timestamp(),
            window=RATE_WINDOW_SECONDS,
            cap=self.settings.recipient_rate_per_hour,
        )
        refused = {
            doc["_id"]: decision for doc, decision in zip(limited, decisions, strict=True) if not decision.allowed
        }
        deferred = [
            (
                key,
                self._deferral(
                    now, self.quiet.not_before(now + timedelta(seconds=decision.retry_after)), "rate_limited"
                ),
            )
            for key, decision in refused.items()
        ]
        return [doc for doc in docs if doc["_id"] not in refused], deferred

    @staticmethod
    def _outgoing(doc: dict[str, Any], open_send: Any = None) -> Outgoing:
        send = doc.get("send") or {}  # the unmasked text, kept apart only when the logged one masks it
        if open_send is not None:  # a credentials SMS keeps its text sealed until now (sealed_sends)
            send = open_send(send)
        return Outgoing(
            message_id=doc["_id"],
            to=doc["to"],
            text=send.get("text", doc.get("text", "")),
            subject=send.get("subject", doc.get("email_subject")),
        )

    async def _already_accepted(self, sender: Channel, docs: list[dict[str, Any]]) -> dict[str, str]:
        """Of these notices, those the provider accepted already (message id -> provider id). Asked only
        for a notice that may have been sent before (given back from a dead sender, or an attempt that
        failed or timed out) and only of a provider that answers (``StatusQuery``); if it cannot answer
        now, the notice is sent again (at least once, never lost)."""
        maybe_sent = [doc["_id"] for doc in docs if doc.get("given_back") or int(doc.get("attempts", 0))]
        if not maybe_sent or not isinstance(sender, StatusQuery):
            return {}
        try:
            return await asyncio.wait_for(sender.accepted(maybe_sent), timeout=self.settings.send_timeout_seconds)
        except (ProviderError, TimeoutError):
            return {}

    async def _send_one(self, doc: dict[str, Any]) -> Outcome:
        """Send one claimed notice; returns the update that finishes it (sent, retry or failed)."""
        accepted = await self._already_accepted(self.channels[doc["channel"]], [doc])
        if doc["_id"] in accepted:
            return self._outcome(doc, accepted[doc["_id"]])
        try:
            provider_id: str | Exception = await asyncio.wait_for(
                self.channels[doc["channel"]].send(self._outgoing(doc, opener(self.settings.keys_dir))),
                timeout=self.settings.send_timeout_seconds,
            )
        except (ProviderError, TimeoutError) as exc:
            provider_id = exc
        return self._outcome(doc, provider_id)

    async def _send_batch(self, channel: str, docs: list[dict[str, Any]]) -> list[tuple[str, Outcome]]:
        sender = self.channels[channel]
        assert isinstance(sender, BatchChannel)
        accepted = await self._already_accepted(sender, docs)
        done = [(doc["_id"], self._outcome(doc, accepted[doc["_id"]])) for doc in docs if doc["_id"] in accepted]
        docs = [doc for doc in docs if doc["_id"] not in accepted]
        if not docs:
            return done
        outcomes: list[str | Exception]
        try:
            outcomes = list(
                await asyncio.wait_for(
                    sender.send_many([self._outgoing(doc, opener(self.settings.keys_dir)) for doc in docs]),
                    timeout=self.settings.send_timeout_seconds,
                )
            )
        except (ProviderError, TimeoutError) as exc:
            outcomes = [exc] * len(docs)
        return done + [(doc["_id"], self._outcome(doc, outcome)) for doc, outcome in zip(docs, outcomes, strict=True)]

    def _outcome(self, doc: dict[str, Any], outcome: str | Exception) -> Outcome:
        attempts = int(doc.get("attempts", 0)) + 1
        if isinstance(outcome, str):
            return self._sent(doc, attempts, outcome)
        if isinstance(outcome, RejectedError):
            return self._fail(doc, attempts, str(outcome))
        error = str(outcome) or f"timed out after {self.settings.send_timeout_seconds}s"
        if attempts >= self.settings.delivery_max_attempts:
            return self._fail(doc, attempts, error)
        return self._retry(doc, attempts, error)

    def _secret_cleanup(self, doc: dict[str, Any]) -> dict[str, Any]:
        template = TEMPLATES.get(doc["template"])
        return {"send": ""} if template is not None and template.secret_fields else {}

    def _sent(self, doc: dict[str, Any], attempts: int, provider_id: str) -> Outcome:
        now = self.clock.now()
        event = NoticeSent(
            notice_id=doc["_id"],
            channel=doc["channel"],
            template=doc["template"],
            recipient=doc["to"],
            cause_event_id=doc.get("cause_id"),
            attempts=attempts,
        )
        update: dict[str, Any] = {
            "$set": {
                "status": "sent",
                "sent_at": now,
                "updated_at": now,
                "attempts": attempts,
                "provider_id": provider_id,
                "next_attempt_at": None,
                "due_ts": None,
            },
        }
        if cleanup := self._secret_cleanup(doc):
            update["$unset"] = cleanup
        return Outcome(update, outbox_entry(event, producer=PRODUCER))

    def _retry(self, doc: dict[str, Any], attempts: int, error: str) -> Outcome:
        now = self.clock.now()
        delay = backoff_seconds(
            attempts, base=self.settings.retry_base_seconds, cap=self.settings.retry_max_seconds, rng=self.rng
        )
        # A retry that would fall in quiet hours waits until their end (urgent notices do not wait).
        later = self.quiet.not_before(now + timedelta(seconds=delay), urgent=bool(doc.get("urgent")))
        logger.warning("notice %s attempt %d failed (%s); retry at %s", doc["_id"], attempts, error, later.isoformat())
        return Outcome(
            {
                "$set": {
                    "status": "pending",
                    "attempts": attempts,
                    "last_error": error,
                    "updated_at": now,
                    "next_attempt_at": later,
                    "due_ts": epoch(later),
                },
                "$push": {"errors": f"attempt {attempts}: {error}"},
            }
        )

    def _fail(self, doc: dict[str, Any], attempts: int, error: str) -> Outcome:
        now = self.clock.now()
        logger.error("notice %s failed after %d attempts: %s", doc["_id"], attempts, error)
        event = NoticeFailed(
            notice_id=doc["_id"],
            channel=doc["channel"],
            template=doc["template"],
            recipient=doc["to"],
            cause_event_id=doc.get("cause_id"),
            attempts=attempts,
            error=error,
        )
        update: dict[str, Any] = {
            "$set": {
                "status": "failed",
                "failed_at": now,
                "updated_at": now,
                "attempts": attempts,
                "last_error": error,
                "next_attempt_at": None,
                "due_ts": None,
            },
            "$push": {"errors": f"attempt {attempts}: {error}"},
        }
        if cleanup := self._secret_cleanup(doc):
            update["$unset"] = cleanup
        return Outcome(update, outbox_entry(event, producer=PRODUCER))
