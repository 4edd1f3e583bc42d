from __future__ import annotations

from fastapi import APIRouter

from hours.entrypoints.api.deps import ContainerDep
from hours.entrypoints.api.schemas import CompletedEntriesOut, ExpiredAccountsOut, RemindedAccountsOut
from jijiao_kit.auth import CurrentPrincipal

router = APIRouter(prefix="/v1/admin/jobs", tags=["admin"])


@router.post("/expire-points", response_model=ExpiredAccountsOut)
async def run_points_expiry(principal: CurrentPrincipal, c: ContainerDep) -> ExpiredAccountsOut:
    """Run the points-expiry job now (the worker runs it on schedule): closes every ended year."""
    return ExpiredAccountsOut(expired_accounts=await c.jobs.expire_points(principal))


@router.post("/remind-expiring-points", response_model=RemindedAccountsOut)
async def run_points_expiry_reminder(principal: CurrentPrincipal, c: ContainerDep) -> RemindedAccountsOut:
    """Run the December reminder job now (the worker runs it on schedule): every open account of the
    year that buys at least one hour is announced once (PointsExpiring; notify texts the teacher)."""
    return RemindedAccountsOut(reminded_accounts=await c.jobs.remind_expiring_points(principal))


@router.post("/complete-pending", response_model=CompletedEntriesOut)
async def run_complete_pending(principal: CurrentPrincipal, c: ContainerDep) -> CompletedEntriesOut:
    """Write ledger entries whose reservation was stored but whose entry was not (after a crash)."""
    return CompletedEntriesOut(completed=await c.jobs.complete_pending(principal))
