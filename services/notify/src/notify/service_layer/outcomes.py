"""Finishing a batch of sent notices with their events, without an outbox entry per notice.

Writing NoticeSent/NoticeFailed into each notice's own outbox costs the embedded store three writes
and a read per notice (the entry, the relay's read, the relay's removal). A batch is finished instead
with DESIGN.md rule 1's other form, *the event record written first*:

1. one ``outcome_records`` document holding the batch's events (one insert);
2. the notices' finishing writes in one bulk write, each event-bearing one also setting
   ``finished_by: <record id>`` in the same single-document write as its status;
3. the record's events published with confirms, then the record deleted.

An event is published only if its notice's finishing write applied: when every write of step 2
matched (the normal case) that is known from the write's count; otherwise (a notice finished or taken
by another sender meanwhile), from the notices carrying ``finished_by``. A crash after step 1 leaves
the record: the delivery job's scan publishes the events of records older than a quarter of the lease
whose notices carry their id (and, at once, those of a worker whose heartbeat is gone), before it
releases expired leases and dead workers' claims (so a notice whose finishing write was lost is sent
again and finished with a new record, never announced twice with different outcomes). A repeated publish carries the same event id (consumers dedupe on it)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from jijiao_kit.liveness import Liveness
from jijiao_kit.outbox import outbox_update
from notify.adapters.repositories import Messages, OutcomeRecords

logger = logging.getLogger(__name__)


class EventPublisher(Protocol):
    async def publish_raw(
        self, routing_key: str, body: bytes, *, event_id: str, correlation_id: str | None
    ) -> None: ...


@dataclass(frozen=True)
class Outcome:
    """How one claimed notice is finished: its update and, for a final outcome, its event (an outbox
    entry: NoticeSent or NoticeFailed)."""

    update: dict[str, Any]
    event: dict[str, Any] | None = None

    def in_document(self) -> dict[str, Any]:
        """The update with its event in the notice's own outbox (one notice at a time; the kit relay)."""
        return outbox_update(self.update, [self.event]) if self.event else self.update


class OutcomeFinisher:
    def __init__(
        self,
        messages: Messages,
        records: OutcomeRecords,
        publisher: EventPublisher | None = None,
        *,
        liveness: Liveness | None = None,
    ) -> None:
        self.messages = messages
        self.records = records
        #: The worker's; without it (the API process) records wait for the worker's scan.
        self.publisher = publisher
        #: The worker's heartbeat: its records name it, so a dead worker's records are recovered at once.
        self.liveness = liveness

    async def finish(self, outcomes: Sequence[tuple[str, Outcome]], now_ts: float) -> None:
        """Finish claimed notices (one bulk write) with their events (one record, published here)."""
        if not outcomes:
            return
        events = [(key, outcome.event) for key, outcome in outcomes if outcome.event is not None]
        if not events:
            await self.messages.finish_many([(key, outcome.update) for key, outcome in outcomes])
            return
        record_id = uuid.uuid4().hex
        record: dict[str, Any] = {
            "_id": record_id,
            "created_ts": now_ts,
            "events": [{"notice_id": key, **event} for key, event in events],
        }
        if self.liveness is not None:
            record["holder"] = self.liveness.holder
        await self.records.insert(record)
        updates = [
            (key, _marked(outcome.update, record_id) if outcome.event is not None else outcome.update)
            for key, outcome in outcomes
        ]
        applied = await self.messages.finish_many(updates)
        if applied == len(updates):
            finished = [event for _, event in events]
        else:
            marked = await self.messages.finished_by([key for key, _ in events], record_id)
            finished = [event for key, event in events if key in marked]
        if self.publisher is None:
            return
        try:
            await self._publish(finished)
        except Exception:  # the broker is away: the record stays for the delivery job's scan
            logger.exception("publishing the events of outcome record %s failed; left to the scan", record_id)
            return
        await self.records.delete(record_id)

    async def recover(self, before_ts: float, limit: int = 50, *, dead_holders: Collection[str] = ()) -> int:
        """Records left behind (a crash or a broker failure after the record was written): those older
        than ``before_ts`` and, whatever their age, those of ``dead_holders`` (senders whose heartbeat
        is gone): publish the events whose notices carry the record's id, then delete the record.
        Returns events published."""
        if self.publisher is None:
            return 0
        published = 0
        records = {record["_id"]: record for record in await self.records.of_holders(dead_holders, limit)}
        records |= {record["_id"]: record for record in await self.records.older_than(before_ts, limit)}
        for record in records.values():
            events = record.get("events") or []
            marked = await self.messages.finished_by([event["notice_id"] for event in events], record["_id"])
            finished = [event for event in events if event["notice_id"] in marked]
            await self._publish(finished)
            await self.records.delete(record["_id"])
            published += len(finished)
            if len(finished) < len(events):
                logger.warning(
                    "outcome record %s: %d of %d notices were not finished by it; their events dropped",
                    record["_id"],
                    len(events) - len(finished),
                    len(events),
                )
        return published

    async def _publish(self, events: Sequence[dict[str, Any]]) -> None:
        assert self.publisher is not None
        publisher = self.publisher
        await asyncio.gather(
            *(
                publisher.publish_raw(
                    event["routing_key"],
                    event["body"].encode(),
                    event_id=event["event_id"],
                    correlation_id=event.get("correlation_id"),
                )
                for event in events
            )
        )


def _marked(update: dict[str, Any], record_id: str) -> dict[str, Any]:
    return {**update, "$set": {**update.get("$set", {}), "finished_by": record_id}}
