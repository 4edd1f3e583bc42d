"""Consuming events in batches of ``CONSUMER_BATCH_SIZE`` (1: one by one, through the same code).

Per batch: first the contact book and reminder facts, event by event in queue order through the kit's
dispatcher and inbox (low volume; a welcome notice then finds the contact its own event created); then
every routed notice of the batch at once: the audiences resolved in two reads, and all notices written
in one unordered ``insert_many``.

Idempotency does not rest on the inbox: a notice's ``_id`` is its cause event id + recipient + channel,
so a redelivered event (or one handled twice at the same moment) inserts nothing new. The inbox (bulk,
the same records the one-at-a-time path keeps) is kept only for notices to a school's administrators:
who they are is read at handling time, so without it a redelivery would reach an administrator
registered in between. A notice to one named teacher or account is keyed on that recipient whatever
the contact book says, so its own key is its inbox: recording the event as well would cost the store
one more write per notice (the payment-deadline burst is a notice per event) and protect nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jijiao_contracts import Envelope
from jijiao_contracts.events.enrollment import SpecialUserCleared, SpecialUserFlagged
from jijiao_kit.batching import BatchInbox
from jijiao_kit.consuming import EventDispatcher, Inbox
from jijiao_kit.correlation import set_correlation_id
from notify.adapters.repositories import Contacts
from notify.domain.routing import ROUTES, Notice, Route, SchoolAdmins
from notify.service_layer.notices import Notifier

SPECIAL_FLAG = {SpecialUserFlagged.routing_key(), SpecialUserCleared.routing_key()}


class NoticeBatches:
    def __init__(
        self,
        facts: EventDispatcher,
        inbox: Inbox,
        batch_inbox: BatchInbox,
        notifier: Notifier,
        routes: Sequence[Route] = ROUTES,
        contacts: Contacts | None = None,
    ) -> None:
        """``contacts``: where special-user flags go in bulk (without it they go through ``facts``)."""
        self.contacts = contacts
        self.facts = facts
        self.inbox = inbox
        self.batch_inbox = batch_inbox
        self.notifier = notifier
        self.routes = {route.event.routing_key(): route for route in routes}
        self._fact_keys = set(facts.routing_keys())

    def routing_keys(self) -> list[str]:
        return sorted(self._fact_keys | set(self.routes))

    async def handle_batch(self, envelopes: Sequence[Envelope]) -> None:
        flags: list[tuple[str, dict[str, Any], Any]] = []
        for envelope in envelopes:
            if self.contacts is not None and envelope.routing_key in SPECIAL_FLAG:
                # A payment deadline flags a whole city at once: these go in bulk (ordered by their own
                # stamp, so no inbox is needed), not event by event like the other contact facts.
                ce_number = envelope.payload.get("ce_number")
                flagged = envelope.routing_key == SpecialUserFlagged.routing_key()
                flags.append((f"teacher:{ce_number}", {"special": flagged}, envelope.occurred_at))
            elif envelope.routing_key in self._fact_keys:
                set_correlation_id(envelope.correlation_id)
                await self.facts.dispatch(envelope, self.inbox)
        if self.contacts is not None and flags:
            await self.contacts.upsert_part_many("special", flags)
        by_route: dict[str, list[Envelope]] = {}
        for envelope in envelopes:
            if envelope.routing_key in self.routes:
                by_route.setdefault(envelope.routing_key, []).append(envelope)
        notices: list[tuple[str, Notice]] = []
        handled: list[tuple[Route, list[str]]] = []
        for key, group in by_route.items():
            route = self.routes[key]
            built: dict[str, Notice | None] = {}
            for envelope in group:
                if envelope.event_id not in built:
                    event: Any = envelope.payload_as(route.event)
                    built[envelope.event_id] = route.build(event)
            shared = [event_id for event_id, notice in built.items() if notice is not None and _shared(notice)]
            done = await self.batch_inbox.done(route.name, shared) if shared else set()
            notices.extend(
                (event_id, notice) for event_id, notice in built.items() if notice is not None and event_id not in done
            )
            handled.append((route, [event_id for event_id in shared if event_id not in done]))
        if notices:
            await self.notifier.notify_many(notices)
        for route, event_ids in handled:
            if event_ids:
                await self.batch_inbox.mark_done(route.name, event_ids)


def _shared(notice: Notice) -> bool:
    """Whether the notice's recipients are read at handling time (and may change between deliveries)."""
    return isinstance(notice.audience, SchoolAdmins)
