"""Personnel of an allocated batch, confirmation, reporting and check-in (routes only translate)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from baseline.entrypoints.api.deps import IdPath, PersonnelDep
from baseline.entrypoints.api.routers.schemas import PersonnelOut, TraineeIn, TraineeOut
from baseline.service_layer.personnel import TraineeFields
from jijiao_kit.auth import CurrentPrincipal

router = APIRouter(prefix="/v1", tags=["personnel"])
TRAINEES = "/batches/{batch_id}/zones/{zone_id}/trainees"


def trainee_out(trainee: dict[str, Any]) -> dict[str, Any]:
    return {
        **trainee,
        "id": trainee["trainee_id"],
        "reported": bool(trainee.get("reported_at")),
        "checked_in": bool(trainee.get("checked_in_at")),
    }


def fields(body: TraineeIn) -> TraineeFields:
    return TraineeFields(
        name=body.name,
        gender=body.gender,
        post=body.post,
        mobile=body.mobile,
        email=str(body.email) if body.email else None,
        employer=body.employer,
        subject=body.subject,
        role=body.role,
    )


@router.get(TRAINEES, response_model=PersonnelOut)
async def list_trainees(
    batch_id: IdPath, zone_id: IdPath, principal: CurrentPrincipal, personnel: PersonnelDep
) -> dict[str, Any]:
    allocation, trainees = await personnel.roster(principal, batch_id, zone_id)
    return {
        "batch_id": batch_id,
        "zone_id": zone_id,
        "places": allocation.get("places", 0),
        "confirmed": bool(allocation.get("confirmed_at")),
        "trainees": [trainee_out(t) for t in trainees],
        "not_reported": [t["trainee_id"] for t in trainees if not t.get("reported_at")],
    }


@router.post(TRAINEES, status_code=status.HTTP_201_CREATED, response_model=TraineeOut)
async def add_trainee(
    batch_id: IdPath, zone_id: IdPath, body: TraineeIn, principal: CurrentPrincipal, personnel: PersonnelDep
) -> dict[str, Any]:
    return trainee_out(await personnel.add(principal, batch_id, zone_id, fields(body)))


@router.put(TRAINEES + "/{trainee_id}", response_model=TraineeOut)
async def update_trainee(
    batch_id: IdPath,
    zone_id: IdPath,
    trainee_id: IdPath,
    body: TraineeIn,
    principal: CurrentPrincipal,
    personnel: PersonnelDep,
) -> dict[str, Any]:
    return trainee_out(await personnel.update(principal, batch_id, zone_id, trainee_id, fields(body)))


@router.delete(TRAINEES + "/{trainee_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_trainee(
    batch_id: IdPath, zone_id: IdPath, trainee_id: IdPath, principal: CurrentPrincipal, personnel: PersonnelDep
) -> Response:
    await personnel.remove(principal, batch_id, zone_id, trainee_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/batches/{batch_id}/zones/{zone_id}/confirmation", response_model=PersonnelOut)
async def confirm(
    batch_id: IdPath, zone_id: IdPath, principal: CurrentPrincipal, personnel: PersonnelDep
) -> dict[str, Any]:
    await personnel.confirm(principal, batch_id, zone_id)
    return await list_trainees(batch_id, zone_id, principal, personnel)


@router.get("/me", response_model=TraineeOut)
async def me(principal: CurrentPrincipal, personnel: PersonnelDep) -> dict[str, Any]:
    _, _, trainee = await personnel.me(principal)
    return trainee_out(trainee)


@router.post("/me/report", response_model=TraineeOut)
async def report(principal: CurrentPrincipal, personnel: PersonnelDep) -> dict[str, Any]:
    return trainee_out(await personnel.report(principal))


@router.post("/batches/{batch_id}/check-in", response_model=TraineeOut)
async def check_in(batch_id: IdPath, principal: CurrentPrincipal, personnel: PersonnelDep) -> dict[str, Any]:
    return trainee_out(await personnel.check_in(principal, batch_id))
