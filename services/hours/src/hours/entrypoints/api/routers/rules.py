from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path

from hours.domain.rules import Period
from hours.entrypoints.api.deps import ContainerDep
from hours.service_layer.access import require
from jijiao_contracts.enums import Role
from jijiao_kit.auth import CurrentPrincipal

router = APIRouter(prefix="/v1/rules/{year}", tags=["rules"])
Year = Annotated[int, Path(ge=2000, le=2100)]


@router.get("")
async def get_rules(year: Year, principal: CurrentPrincipal, c: ContainerDep) -> dict[str, Any]:
    """The year's caps, requirement, carry-over threshold and points rules (defaults until set)."""
    return (await c.rules.for_year(year)).model_dump(mode="json")


@router.put("")
async def put_rules(
    year: Year, body: Annotated[dict[str, Any], Body()], principal: CurrentPrincipal, c: ContainerDep
) -> dict[str, Any]:
    """Replace the year's rules (city admin); omitted parts take their defaults. Applies to facts credited
    from now on; verification always uses the stored rules of each year."""
    require(principal, Role.CITY_ADMIN)
    return (await c.rules.store(year, body, principal.subject)).model_dump(mode="json")


@router.put("/complaint-period")
async def put_complaint_period(
    year: Year, body: Period, principal: CurrentPrincipal, c: ContainerDep
) -> dict[str, Any]:
    """Open the period in which teachers may complain about the year's verification (city admin)."""
    require(principal, Role.CITY_ADMIN)
    rules = await c.rules.for_year(year)
    data = rules.model_dump(mode="json")
    data["complaint_period"] = body.model_dump(mode="json")
    return (await c.rules.store(year, data, principal.subject)).model_dump(mode="json")
