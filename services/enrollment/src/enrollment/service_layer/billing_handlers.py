"""Billing's event handler in enrollment's worker: bills follow selections added or deleted after the
window closed (SelectionMade / SelectionCancelled, whoever made the change: institution, city, school-based
bulk enrollment, results, deletions).

The events come in bursts (a selection storm while the window is open), so they are taken in batches:
one read of the batch's terms, nothing else while a term's window is open, and one refresh per school
and term however many of its selections the batch carries. The effect is derived from the selections
(``BillingService.refresh_school_bills``), so a redelivered or reordered event changes nothing and no
inbox is needed."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from enrollment.service_layer.billing import BillingService
from jijiao_contracts import Envelope
from jijiao_contracts.events.enrollment import SelectionCancelled, SelectionMade

logger = logging.getLogger(__name__)

#: The events bills follow; the enrollment worker's queue is bound to these keys.
BILLING_EVENTS: tuple[type[SelectionMade] | type[SelectionCancelled], ...] = (SelectionMade, SelectionCancelled)


class BillsFollowSelections:
    """The worker's batch handler (``jijiao_kit.batching.BatchHandler``)."""

    def __init__(self, billing: BillingService) -> None:
        self.billing = billing
        self._classes = {event.routing_key(): event for event in BILLING_EVENTS}

    @property
    def routing_keys(self) -> list[str]:
        return sorted(self._classes)

    async def handle_batch(self, envelopes: Sequence[Envelope]) -> None:
        changes: set[tuple[str, str]] = set()
        for envelope in envelopes:
            event_class = self._classes.get(envelope.routing_key)
            if event_class is None:
                logger.warning("ignoring %s %s: not a billing event", envelope.routing_key, envelope.event_id)
                continue
            event = envelope.payload_as(event_class)
            changes.add((event.term, event.school_id))
        await self.billing.follow_changes(changes)
