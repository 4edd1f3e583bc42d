"""Sending pending notices: the delivery job of the worker.

Notices created by this worker's consumer are handed over by id (``hint``); a periodic scan finds
the rest (retries, deferred notices, codes created by the API process, notices whose sender died and
whose lease ran out). Each notice is claimed with a conditional update (so replicas never send one
notice twice at the same time); up to ``delivery_concurrency`` are sent at once, each bounded by
``send_timeout_seconds``. A provider error schedules the next attempt with exponential backoff and
jitter; after ``delivery_max_attempts`` (or a final refusal) the notice is ``failed`` with its error
and attempts, and a NoticeFailed event leaves through the outbox — never silent. A success writes
``sent`` and NoticeSent in the same single-document update."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from datetime import timedelta
from typing import Any

from jijiao_contracts.events.notify import PRODUCER, NoticeFailed, NoticeSent
from jijiao_kit.clock import Clock
from jijiao_kit.outbox import outbox_entry, outbox_update
from notify.adapters.channels import Channel, Outgoing, ProviderError, RejectedError
from notify.adapters.repositories import Messages
from notify.adapters.throttle import SlidingLimiter
from notify.domain.schedule import backoff_seconds, epoch
from notify.domain.templates import TEMPLATES
from notify.settings import Settings

logger = logging.getLogger(__name__)

RATE_WINDOW_SECONDS = 3600


class DeliveryService:
    def __init__(
        self,
        messages: Messages,
        channels: dict[str, Channel],
        limiter: SlidingLimiter,
        clock: Clock,
        settings: Settings,
        rng: random.Random | None = None,
    ) -> None:
        self.messages = messages
        self.channels = channels
        self.limiter = limiter
        self.clock = clock
        self.settings = settings
        self.rng = rng or random.Random()
        self._slots = asyncio.Semaphore(settings.delivery_concurrency)
        self._hinted: asyncio.Queue[str] = asyncio.Queue()
        self._last_scan = 0.0

    def hint(self, keys: list[str]) -> None:
        """Notices that are due now (from this process's consumer): sent by id, without a scan."""
        for key in keys:
            self._hinted.put_nowait(key)

    async def run_once(self) -> int:
        """One scan for due notices (retries, deferred ones, notices of other processes); returns how
        many were taken (sent, retried, failed or deferred)."""
        ids = await self.messages.due_ids(self.clock.now(), self.settings.delivery_batch_size)
        return await self._deliver_many(ids)

    async def _deliver_many(self, ids: list[str]) -> int:
        if not ids:
            return 0
        results = await asyncio.gather(*(self._guarded(key) for key in ids))
        return sum(results)

    async def drain(self) -> int:
        """The delivery job's pass: hinted notices first, a scan every ``delivery_scan_seconds`` (the
        scan costs the embedded store a pass over the collection, so it is not run on every tick);
        until nothing is left or the pass has run ``delivery_drain_seconds``."""
        deadline = time.monotonic() + self.settings.delivery_drain_seconds
        total = 0
        if time.monotonic() - self._last_scan >= self.settings.delivery_scan_seconds:
            self._last_scan = time.monotonic()
            total += await self.messages.release_stale(self.clock.now(), self.settings.delivery_batch_size)
            while time.monotonic() < deadline:
                done = await self.run_once()
                total += done
                if done < self.settings.delivery_batch_size:
                    break
        while not self._hinted.empty() and time.monotonic() < deadline:
            batch: list[str] = []
            while not self._hinted.empty() and len(batch) < self.settings.delivery_batch_size:
                batch.append(self._hinted.get_nowait())
            total += await self._deliver_many(batch)
        return total

    async def _guarded(self, key: str) -> int:
        async with self._slots:
            try:
                return await self.deliver(key)
            except Exception:  # one bad notice must not stop the others; its lease lets it be retried
                logger.exception("delivering notice %s failed unexpectedly", key)
                return 0

    async def deliver(self, key: str) -> int:
        now = self.clock.now()
        doc = await self.messages.claim(key, now, now + timedelta(seconds=self.settings.delivery_lease_seconds))
        if doc is None:
            return 0
        if not doc.get("urgent"):
            decision = await self.limiter.take(
                f"rate:{doc['to']}",
                now=now.timestamp(),
                window=RATE_WINDOW_SECONDS,
                cap=self.settings.recipient_rate_per_hour,
            )
            if not decision.allowed:
                later = now + timedelta(seconds=decision.retry_after)
                await self.messages.finish(
                    key,
                    {
                        "$set": {
                            "status": "pending",
                            "next_attempt_at": later,
                            "due_ts": epoch(later),
                            "deferred_until": later,
                            "deferred_reason": "rate_limited",
                            "updated_at": now,
                        }
                    },
                )
                return 1
        send = doc.get("send") or {}
        outgoing = Outgoing(message_id=key, to=doc["to"], text=send.get("text", ""), subject=send.get("subject"))
        attempts = int(doc.get("attempts", 0)) + 1
        try:
            provider_id = await asyncio.wait_for(
                self.channels[doc["channel"]].send(outgoing), timeout=self.settings.send_timeout_seconds
            )
        except RejectedError as exc:
            await self._fail(doc, attempts, str(exc))
        except (ProviderError, TimeoutError) as exc:
            error = str(exc) or f"timed out after {self.settings.send_timeout_seconds}s"
            if attempts >= self.settings.delivery_max_attempts:
                await self._fail(doc, attempts, error)
            else:
                await self._retry(doc, attempts, error)
        else:
            await self._sent(doc, attempts, provider_id)
        return 1

    def _secret_cleanup(self, doc: dict[str, Any]) -> dict[str, Any]:
        template = TEMPLATES.get(doc["template"])
        return {"send": ""} if template is not None and template.secret_fields else {}

    async def _sent(self, doc: dict[str, Any], attempts: int, provider_id: str) -> None:
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
        await self.messages.finish(doc["_id"], outbox_update(update, [outbox_entry(event, producer=PRODUCER)]))

    async def _retry(self, doc: dict[str, Any], attempts: int, error: str) -> None:
        now = self.clock.now()
        delay = backoff_seconds(
            attempts, base=self.settings.retry_base_seconds, cap=self.settings.retry_max_seconds, rng=self.rng
        )
        logger.warning("notice %s attempt %d failed (%s); retry in %.1fs", doc["_id"], attempts, error, delay)
        await self.messages.finish(
            doc["_id"],
            {
                "$set": {
                    "status": "pending",
                    "attempts": attempts,
                    "last_error": error,
                    "updated_at": now,
                    "next_attempt_at": now + timedelta(seconds=delay),
                    "due_ts": epoch(now) + delay,
                },
                "$push": {"errors": f"attempt {attempts}: {error}"},
            },
        )

    async def _fail(self, doc: dict[str, Any], attempts: int, error: str) -> None:
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
        await self.messages.finish(doc["_id"], outbox_update(update, [outbox_entry(event, producer=PRODUCER)]))
