"""Batches, availability, quotas, demands, review, allocation and rewards (routes only translate)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, status

from baseline.entrypoints.api.deps import IdPath, ProgrammeDep, YearPath
from baseline.entrypoints.api.routers.schemas import (
    AllocateIn,
    BatchIn,
    BatchOut,
    DemandIn,
    DemandOut,
    QuotaOut,
    ReviewIn,
    RewardIn,
    RewardOut,
    StageAvailabilityOut,
    StageName,
)
from baseline.service_layer.access import is_centre, zone_of
from baseline.service_layer.programme import NewAllocation, NewBatch, NewDemand
from jijiao_kit.auth import CurrentPrincipal, Principal

router = APIRouter(prefix="/v1", tags=["programme"])


def batch_out(batch: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """A batch as the caller may read it: the centre sees every allocation, others only their zone's."""
    own = None if is_centre(principal) else zone_of(principal)
    allocations = [
        {
            "zone_id": zone_id,
            "zone_name": allocation.get("zone_name", ""),
            "places": allocation.get("places", 0),
            "trainee_count": allocation.get("count", 0),
            "confirmed": bool(allocation.get("confirmed_at")),
            "demand_id": allocation.get("demand_id"),
            "demand_type": allocation.get("demand_type"),
        }
        for zone_id, allocation in (batch.get("zones") or {}).items()
        if own is None or zone_id == own
    ]
    return {**batch, "id": batch["_id"], "allocations": allocations}


def quota_out(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        **doc,
        "remaining_demand_places": doc["demand_left"],
        "remaining_allocation_places": doc["allocation_left"],
        "remaining_batches": doc["batches_left"],
    }


@router.get("/years/{year}/availability", response_model=list[StageAvailabilityOut])
async def availability(year: YearPath, principal: CurrentPrincipal, programme: ProgrammeDep) -> list[dict[str, Any]]:
    return await programme.availability(principal, year)


@router.get("/years/{year}/quota", response_model=QuotaOut)
async def quota(
    year: YearPath,
    principal: CurrentPrincipal,
    programme: ProgrammeDep,
    zone_id: str | None = Query(default=None, max_length=64, description="the centre names a zone"),
) -> dict[str, Any]:
    return quota_out(await programme.quota(principal, year, zone_id))


@router.post("/years/{year}/batches", status_code=status.HTTP_201_CREATED, response_model=BatchOut)
async def publish_batch(
    year: YearPath, body: BatchIn, principal: CurrentPrincipal, programme: ProgrammeDep
) -> dict[str, Any]:
    new = NewBatch(body.base_id, body.starts_on, body.ends_on, body.capacity)
    return batch_out(await programme.publish_batch(principal, year, new), principal)


@router.get("/years/{year}/batches", response_model=list[BatchOut])
async def list_batches(
    year: YearPath,
    principal: CurrentPrincipal,
    programme: ProgrammeDep,
    stage: StageName | None = None,
    mine: bool = Query(default=False, description="a zone contact: only the batches allocated to the zone"),
) -> list[dict[str, Any]]:
    batches = await programme.list_batches(principal, year, stage, mine)
    return [batch_out(batch, principal) for batch in batches]


@router.get("/batches/{batch_id}", response_model=BatchOut)
async def get_batch(batch_id: IdPath, principal: CurrentPrincipal, programme: ProgrammeDep) -> dict[str, Any]:
    return batch_out(await programme.batch(principal, batch_id), principal)


@router.post("/batches/{batch_id}/allocations", status_code=status.HTTP_201_CREATED, response_model=BatchOut)
async def allocate(
    batch_id: IdPath, body: AllocateIn, principal: CurrentPrincipal, programme: ProgrammeDep
) -> dict[str, Any]:
    new = NewAllocation(body.demand_id, body.places, body.zone_id)
    return batch_out(await programme.allocate(principal, batch_id, new), principal)


@router.post("/years/{year}/demands", status_code=status.HTTP_201_CREATED, response_model=DemandOut)
async def submit_demand(
    year: YearPath, body: DemandIn, principal: CurrentPrincipal, programme: ProgrammeDep
) -> dict[str, Any]:
    new = NewDemand(body.stage, body.places, body.purpose, body.demand_type, body.remark)
    demand = await programme.submit_demand(principal, year, new)
    return {**demand, "id": demand["_id"]}


@router.get("/years/{year}/demands", response_model=list[DemandOut])
async def list_demands(year: YearPath, principal: CurrentPrincipal, programme: ProgrammeDep) -> list[dict[str, Any]]:
    return [{**demand, "id": demand["_id"]} for demand in await programme.list_demands(principal, year)]


@router.post("/demands/{demand_id}/review", response_model=DemandOut)
async def review_demand(
    demand_id: IdPath, body: ReviewIn, principal: CurrentPrincipal, programme: ProgrammeDep
) -> dict[str, Any]:
    demand = await programme.review_demand(principal, demand_id, body.approve, body.comment)
    return {**demand, "id": demand["_id"]}


@router.post("/years/{year}/rewards", status_code=status.HTTP_201_CREATED, response_model=RewardOut)
async def reward(
    year: YearPath, body: RewardIn, principal: CurrentPrincipal, programme: ProgrammeDep
) -> dict[str, Any]:
    return await programme.reward(principal, year, body.zone_id)
