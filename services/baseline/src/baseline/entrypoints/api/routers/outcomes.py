"""Outcome reports and sharing sessions after the stay, and who is overdue (routes only translate)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from baseline.entrypoints.api.deps import IdPath, OutcomesDep
from baseline.entrypoints.api.routers.schemas import OutcomeIn, OutcomeOut, OutcomeStatusOut, SharingIn, SharingOut
from baseline.service_layer.outcomes import NewOutcome, Sharing
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.timeutil import as_utc

router = APIRouter(prefix="/v1", tags=["outcomes"])


@router.post("/me/outcome", status_code=status.HTTP_201_CREATED, response_model=OutcomeOut)
async def upload_outcome(body: OutcomeIn, principal: CurrentPrincipal, outcomes: OutcomesDep) -> dict[str, Any]:
    new = NewOutcome(body.title, body.summary, body.shared_on, body.sharing_note)
    return await outcomes.upload(principal, new)


@router.put("/me/outcome/sharing", response_model=SharingOut)
async def record_sharing(body: SharingIn, principal: CurrentPrincipal, outcomes: OutcomesDep) -> dict[str, Any]:
    """The sharing session (分享报告) the trainee gave in their zone within three months after the stay:
    a day from the stay's last day to today; recording again replaces it."""
    doc = await outcomes.record_sharing(principal, Sharing(body.shared_on, body.sharing_note))
    return {**doc, "recorded_at": as_utc(doc["recorded_ms"])}


@router.get("/batches/{batch_id}/zones/{zone_id}/outcomes", response_model=list[OutcomeStatusOut])
async def outcome_status(
    batch_id: IdPath, zone_id: IdPath, principal: CurrentPrincipal, outcomes: OutcomesDep
) -> list[dict[str, Any]]:
    return await outcomes.status(principal, batch_id, zone_id)
