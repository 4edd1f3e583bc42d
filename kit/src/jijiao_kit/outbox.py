"""Transactional outbox inside the aggregate document (DESIGN.md rule 1).

A state change and the events it causes are written in one single-document write: the events go into
the document's ``outbox`` map (keyed by event id) and its ``outbox_pending`` counter is raised by the
same amount. The relay (``OutboxRelay``) publishes pending entries with publisher confirms and then
removes each one with a conditional ``$unset`` that also lowers the counter, so an entry is never lost
and at worst published twice (consumers are idempotent on ``event_id``).

The outbox is a map, not an array: the embedded store (nx-27017 0.8.1) turns sub-documents pushed
into an array into JSON strings, while ``$set``/``$unset`` of ``outbox.<id>`` and ``$exists`` on that
path behave as in MongoDB (see tests/store_contract).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from jijiao_contracts import Actor, Envelope, IntegrationEvent
from jijiao_kit.correlation import get_correlation_id

logger = logging.getLogger(__name__)

OUTBOX = "outbox"
PENDING = "outbox_pending"


def outbox_entry(
    event: IntegrationEvent,
    *,
    producer: str,
    actor: Actor | None = None,
    correlation_id: str | None = None,
    occurred_at: datetime | None = None,
) -> dict[str, Any]:
    """One outbox entry: the wire envelope, serialised now so the relay publishes exactly it."""
    envelope = Envelope.wrap(
        event,
        producer=producer,
        correlation_id=correlation_id or get_correlation_id(),
        actor=actor,
        occurred_at=occurred_at,
    )
    return {
        "event_id": envelope.event_id,
        "routing_key": envelope.routing_key,
        "body": envelope.model_dump_json(),
        "correlation_id": envelope.correlation_id,
        "created_at": datetime.now(UTC),
        "seq": time.time_ns(),  # publish order within one document
    }


def with_outbox(document: dict[str, Any], entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A new document carrying its first events (for ``insert_one``)."""
    return {**document, OUTBOX: {entry["event_id"]: entry for entry in entries}, PENDING: len(entries)}


def outbox_update(update: dict[str, Any], entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Add events to an update document (``$set`` etc. stay as they are)."""
    if not entries:
        return update
    merged = {key: dict(value) for key, value in update.items()}
    sets = merged.setdefault("$set", {})
    for entry in entries:
        sets[f"{OUTBOX}.{entry['event_id']}"] = entry
    inc = merged.setdefault("$inc", {})
    inc[PENDING] = inc.get(PENDING, 0) + len(entries)
    return merged


class Publisher(Protocol):
    async def publish_raw(
        self, routing_key: str, body: bytes, *, event_id: str, correlation_id: str | None
    ) -> None: ...


@dataclass
class RelayStats:
    published: int = 0
    failures: int = 0


class OutboxRelay:
    """Publishes pending outbox entries of the given collections, oldest documents first."""

    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        collections: Iterable[str],
        publisher: Publisher,
        *,
        batch_size: int = 200,
        interval_seconds: float = 0.2,
    ) -> None:
        self.db = db
        self.collections = list(collections)
        self.publisher = publisher
        self.batch_size = batch_size
        self.interval_seconds = interval_seconds
        self.stats = RelayStats()
        self._busy: set[str] = set()
        self._asked: dict[str, float] = {}

    async def ensure_indexes(self) -> None:
        for name in self.collections:
            await self.db[name].create_index([(PENDING, 1)], name="outbox_pending")

    async def run_once(self, *, skip_idle: bool = False) -> int:
        """Publish one batch per collection; returns how many entries were published.

        ``skip_idle``: while some collection is busy the relay loops without pausing, and asking
        every idle collection again on each of those passes would cost the store one query each;
        an idle collection is then asked at most once per ``interval_seconds``."""
        published = 0
        now = time.monotonic()
        for name in self.collections:
            if skip_idle and name not in self._busy and now - self._asked.get(name, 0.0) < self.interval_seconds:
                continue
            self._asked[name] = now
            count = await self._relay_collection(name)
            if count:
                self._busy.add(name)
            else:
                self._busy.discard(name)
            published += count
        return published

    async def _relay_collection(self, name: str) -> int:
        collection = self.db[name]
        cursor = collection.find({PENDING: {"$gt": 0}}, {OUTBOX: 1, PENDING: 1}).limit(self.batch_size)
        documents = [doc async for doc in cursor]
        if not documents:
            return 0
        # Documents are published concurrently (confirms pipeline); entries of one document in order.
        batches = await asyncio.gather(*(self._publish_document(doc) for doc in documents))
        cleanups = [cleanup for batch in batches for cleanup in batch]
        published = len(cleanups)
        if cleanups:
            await collection.bulk_write(cleanups, ordered=False)
        self.stats.published += published
        return published

    async def _publish_document(self, doc: dict[str, Any]) -> list[UpdateOne]:
        entries = sorted((doc.get(OUTBOX) or {}).values(), key=lambda entry: entry.get("seq", 0))
        cleanups: list[UpdateOne] = []
        for entry in entries:
            await self.publisher.publish_raw(
                entry["routing_key"],
                entry["body"].encode(),
                event_id=entry["event_id"],
                correlation_id=entry.get("correlation_id"),
            )
            # Remove the entry only if it is still there, so the counter stays exact when two relays
            # race; a repeated publish is harmless (consumers dedupe on event_id).
            cleanups.append(
                UpdateOne(
                    {"_id": doc["_id"], f"{OUTBOX}.{entry['event_id']}": {"$exists": True}},
                    {"$unset": {f"{OUTBOX}.{entry['event_id']}": ""}, "$inc": {PENDING: -1}},
                )
            )
        return cleanups

    async def run_forever(self, stop: asyncio.Event) -> None:
        await self.ensure_indexes()
        while not stop.is_set():
            try:
                count = await self.run_once(skip_idle=True)
            except Exception:  # keep relaying after a broker or store hiccup
                self.stats.failures += 1
                logger.exception("outbox relay pass failed")
                count = 0
            if count == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.interval_seconds)
