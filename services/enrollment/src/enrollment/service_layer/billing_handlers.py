"""Event handlers of billing in enrollment's worker (effects keyed on the selection: idempotent)."""

from __future__ import annotations

from enrollment.service_layer.billing import BillingService
from jijiao_contracts import Envelope
from jijiao_contracts.events.enrollment import SelectionCancelled
from jijiao_kit.consuming import EventDispatcher


def register_billing_handlers(dispatcher: EventDispatcher, billing: BillingService) -> None:
    @dispatcher.handles(SelectionCancelled, name="enrollment.bill_selection_cancelled")
    async def selection_cancelled(event: SelectionCancelled, envelope: Envelope) -> None:
        await billing.selection_cancelled(event.selection_id)
