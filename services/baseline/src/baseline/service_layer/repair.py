"""Crash repair of reservations (the worker runs it at start and every 30 s; idempotent).

A demand takes places of its zone's quota and of its stage, an allocation takes places of its demand and
places and a batch of its zone's quota, each by a conditional write on the counter document that also notes a hold
(``holds.<id>``); then it writes the demand or the allocation. A process that dies between the two
writes leaves places taken that nothing uses. Past ``HOLD_GRACE_MS`` a hold whose document exists is
settled (forgotten) and any other is given back, once: the hold's presence guards the increment."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from baseline.adapters.repositories import BatchRepository, DemandRepository, QuotaRepository, StageRepository
from baseline.service_layer.programme import HOLD_GRACE_MS
from jijiao_kit.clock import Clock
from jijiao_kit.timeutil import epoch_ms

logger = logging.getLogger(__name__)

Doc = dict[str, Any]


class HoldingCounters(Protocol):
    async def with_holds(self) -> list[Doc]: ...
    async def settle(self, doc_id: str, hold_id: str) -> None: ...
    async def give_back(self, doc_id: str, hold_id: str, amounts: dict[str, int]) -> bool: ...


class ReservationRepair:
    def __init__(
        self,
        quotas: QuotaRepository,
        stages: StageRepository,
        demands: DemandRepository,
        batches: BatchRepository,
        clock: Clock,
        release: Callable[[Doc], Awaitable[None]],
    ) -> None:
        self.counters: tuple[HoldingCounters, ...] = (demands, quotas, stages)
        self.programme_release = release
        self.demands = demands
        self.batches = batches
        self.clock = clock

    async def run(self, grace_ms: int = HOLD_GRACE_MS) -> int:
        """Settle or give back every hold older than ``grace_ms``, and finish the release of every rejected
        demand a crash interrupted; returns how many holds were given back."""
        for demand in await self.demands.pending_releases():
            await self.programme_release(demand)  # each release counts once (``released.<demand id>``)
        now = epoch_ms(self.clock.now())
        given_back = 0
        for counters in self.counters:
            for doc in await counters.with_holds():
                for hold_id, hold in (doc.get("holds") or {}).items():
                    if now - int(hold.get("at_ms", 0)) < grace_ms:
                        continue  # its request may still be between its two writes
                    if await self._used(hold_id, hold):
                        await counters.settle(doc["_id"], hold_id)
                    elif await counters.give_back(doc["_id"], hold_id, hold["amounts"]):
                        given_back += 1
                        logger.warning("gave back hold %s of %s: %s", hold_id, doc["_id"], hold["amounts"])
        return given_back

    async def _used(self, hold_id: str, hold: Doc) -> bool:
        if "demand_id" in hold:
            return await self.demands.get(hold["demand_id"]) is not None
        batch = await self.batches.get(hold["batch_id"]) or {}
        allocation = (batch.get("zones") or {}).get(hold["zone_id"]) or {}
        return bool(allocation.get("hold_id") == hold_id)
