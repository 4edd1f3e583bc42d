"""The worker's jobs, run on demand by the city admin (the worker runs them on schedule)."""

from __future__ import annotations

from hours.service_layer.access import require
from hours.service_layer.crediting import HoursBank
from hours.service_layer.points import PointsBank
from jijiao_contracts.enums import Role
from jijiao_kit.auth import Principal


class AdminJobs:
    def __init__(self, points: PointsBank, bank: HoursBank) -> None:
        self.points = points
        self.bank = bank

    async def expire_points(self, principal: Principal) -> int:
        """Close every account of an ended year; returns the accounts closed."""
        require(principal, Role.CITY_ADMIN)
        return await self.points.expire()

    async def remind_expiring_points(self, principal: Principal) -> int:
        """Announce every open account of the year that buys at least one hour, once; returns how many."""
        require(principal, Role.CITY_ADMIN)
        return await self.points.remind_expiring()

    async def complete_pending(self, principal: Principal) -> int:
        """Write ledger entries whose reservation was stored but whose entry was not (after a crash)."""
        require(principal, Role.CITY_ADMIN)
        return await self.bank.complete_pending()
