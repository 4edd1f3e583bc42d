from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from hours.entrypoints.api.deps import ContainerDep
from hours.entrypoints.api.schemas import PointsAccountOut, PointsAwardOut, RedemptionOut
from hours.service_layer.queries import entry_view
from jijiao_contracts.enums import HourCategory
from jijiao_kit.auth import CurrentPrincipal

router = APIRouter(tags=["points"])
Year = Annotated[int, Path(ge=2000, le=2100)]


class RedemptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Literal["professional", "elective"]
    hours: int = Field(ge=1, le=100, description="whole hours; 100 points each")


class PointsRegistrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ce_number: str = Field(min_length=1, max_length=32)
    year: int = Field(ge=2000, le=2100)
    rule: str = Field(min_length=1, max_length=64)
    reference: str = Field(min_length=1, max_length=200)


@router.get("/v1/teachers/{ce_number}/years/{year}/points", response_model=PointsAccountOut)
async def get_points(ce_number: str, year: Year, principal: CurrentPrincipal, c: ContainerDep) -> PointsAccountOut:
    """`{"balance","redeemed_hours":{"professional","elective"},"entries":[...]}` plus earned/spent per item."""
    return PointsAccountOut.model_validate(await c.teacher_points.account(principal, ce_number, year))


@router.post("/v1/teachers/{ce_number}/years/{year}/redemptions", status_code=201, response_model=RedemptionOut)
async def redeem_points(
    ce_number: str, year: Year, body: RedemptionIn, principal: CurrentPrincipal, c: ContainerDep
) -> RedemptionOut:
    """The teacher redeems whole hours (100 points each) into this year's professional or elective hours."""
    redemption, entry, account = await c.teacher_points.redeem(
        principal, ce_number, year, HourCategory(body.category), body.hours
    )
    return RedemptionOut.model_validate(
        {
            "redemption": redemption,
            "entry": entry_view(entry),
            "balance": account["balance"],
            "redeemed_hours": account["redeemed_hours"],
        }
    )


@router.post("/v1/points-registrations", status_code=201, response_model=PointsAwardOut)
async def register_points(
    body: PointsRegistrationIn, response: Response, principal: CurrentPrincipal, c: ContainerDep
) -> PointsAwardOut:
    """Points facts registered by the remote-training centre (network research) or the city; a fact
    registered before answers 200 ``duplicate``."""
    fact = await c.teacher_points.register(principal, body.ce_number, body.year, body.rule, body.reference)
    if fact is None:
        response.status_code = 200
        return PointsAwardOut(status="duplicate")
    return PointsAwardOut.model_validate({"status": "awarded", **fact})
