from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from hours.entrypoints.api.deps import ContainerDep, naive_utc
from hours.service_layer.access import require, teacher_not_found
from hours.service_layer.queries import entry_view
from jijiao_contracts import Actor
from jijiao_contracts.enums import HourCategory, Role
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.errors import NotFound

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


@router.get("/v1/teachers/{ce_number}/years/{year}/points")
async def get_points(ce_number: str, year: Year, principal: CurrentPrincipal, c: ContainerDep) -> dict[str, Any]:
    """`{"balance","redeemed_hours":{"professional","elective"},"entries":[...]}` plus earned/spent per item."""
    await c.queries.teacher(principal, ce_number)
    return naive_utc(await c.points.account(ce_number, year))


@router.post("/v1/teachers/{ce_number}/years/{year}/redemptions", status_code=201)
async def redeem_points(
    ce_number: str, year: Year, body: RedemptionIn, principal: CurrentPrincipal, c: ContainerDep
) -> dict[str, Any]:
    """The teacher redeems whole hours (100 points each) into this year's professional or elective hours."""
    if not (principal.has_role(Role.TEACHER) and principal.ce_number == ce_number):
        raise NotFound(
            "Only the teacher redeems their points.", code="teacher_not_found", title="找不到该教师的积分账户"
        )
    redemption, entry = await c.points.redeem(
        ce_number=ce_number,
        year=year,
        category=HourCategory(body.category),
        hours=body.hours,
        actor=Actor(subject=principal.subject, role=Role.TEACHER),
    )
    account = await c.points.account(ce_number, year)
    return naive_utc(
        {
            "redemption": redemption,
            "entry": entry_view(entry),
            "balance": account["balance"],
            "redeemed_hours": account["redeemed_hours"],
        }
    )


@router.post("/v1/points-registrations", status_code=201)
async def register_points(
    body: PointsRegistrationIn, response: Response, principal: CurrentPrincipal, c: ContainerDep
) -> dict[str, Any]:
    """Points facts registered by the remote-training centre (network research) or the city."""
    require(principal, Role.REMOTE_CENTRE, Role.CITY_ADMIN)
    if await c.teachers.get(body.ce_number) is None:
        raise teacher_not_found(body.ce_number)
    fact = await c.points.award(
        ce_number=body.ce_number,
        year=body.year,
        rule=body.rule,
        reference=body.reference,
        source=f"registration:{principal.subject}",
    )
    if fact is None:
        response.status_code = 200
        return {"status": "duplicate"}
    return naive_utc({"status": "awarded", **fact})
