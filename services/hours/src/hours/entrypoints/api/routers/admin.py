from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hours.entrypoints.api.deps import ContainerDep
from hours.service_layer.access import require
from jijiao_contracts.enums import Role
from jijiao_kit.auth import CurrentPrincipal

router = APIRouter(prefix="/v1/admin/jobs", tags=["admin"])


@router.post("/expire-points")
async def run_points_expiry(principal: CurrentPrincipal, c: ContainerDep) -> dict[str, Any]:
    """Run the points-expiry job now (the worker runs it on schedule): closes every ended year."""
    require(principal, Role.CITY_ADMIN)
    return {"expired_accounts": await c.points.expire()}


@router.post("/remind-expiring-points")
async def run_points_expiry_reminder(principal: CurrentPrincipal, c: ContainerDep) -> dict[str, Any]:
    """Run the December reminder job now (the worker runs it on schedule): every open account of the
    year that buys at least one hour is announced once (PointsExpiring; notify texts the teacher)."""
    require(principal, Role.CITY_ADMIN)
    return {"reminded_accounts": await c.points.remind_expiring()}


@router.post("/complete-pending")
async def run_complete_pending(principal: CurrentPrincipal, c: ContainerDep) -> dict[str, Any]:
    """Write ledger entries whose reservation was stored but whose entry was not (after a crash)."""
    require(principal, Role.CITY_ADMIN)
    return {"completed": await c.bank.complete_pending()}
