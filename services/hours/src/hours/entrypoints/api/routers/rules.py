from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path

from hours.domain.rules import Period, YearRules
from hours.entrypoints.api.deps import ContainerDep
from jijiao_kit.auth import CurrentPrincipal

router = APIRouter(prefix="/v1/rules/{year}", tags=["rules"])
Year = Annotated[int, Path(ge=2000, le=2100)]


@router.get("", response_model=YearRules)
async def get_rules(year: Year, principal: CurrentPrincipal, c: ContainerDep) -> YearRules:
    """The year's caps, requirement, carry-over threshold and points rules (defaults until set)."""
    return await c.rules.for_year(year)


@router.put("", response_model=YearRules)
async def put_rules(
    year: Year, body: Annotated[dict[str, Any], Body()], principal: CurrentPrincipal, c: ContainerDep
) -> YearRules:
    """Replace the year's rules (city admin); omitted parts take their defaults. Applies to facts credited
    from now on; verification always uses the stored rules of each year."""
    return await c.rules.replace(principal, year, body)


@router.put("/complaint-period", response_model=YearRules)
async def put_complaint_period(year: Year, body: Period, principal: CurrentPrincipal, c: ContainerDep) -> YearRules:
    """Open the period in which teachers may complain about the year's verification (city admin)."""
    return await c.rules.open_complaint_period(principal, year, body)
