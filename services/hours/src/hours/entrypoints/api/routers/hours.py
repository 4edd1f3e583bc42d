from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel

from hours.service_layer.queries import HoursQueries
from jijiao_kit.auth import CurrentPrincipal

router = APIRouter(prefix="/v1/teachers/{ce_number}/years/{year}", tags=["hours"])


def get_queries(request: Request) -> HoursQueries:
    queries: HoursQueries = request.app.state.container.queries
    return queries


class LedgerEntryOut(BaseModel):
    id: str
    category: str
    source: str
    requested: float
    credited: float
    reason: str | None = None


class YearHoursOut(BaseModel):
    ce_number: str
    year: int
    public: float
    professional: float
    elective: float
    total: float
    carried_in: float
    entries: list[LedgerEntryOut]


@router.get("/hours", response_model=YearHoursOut)
async def get_year_hours(
    ce_number: str,
    year: Annotated[int, Path(ge=2000, le=2100)],
    principal: CurrentPrincipal,
    queries: Annotated[HoursQueries, Depends(get_queries)],
) -> dict[str, Any]:
    result = await queries.year_hours(principal, ce_number, year)
    result["entries"] = [{**entry, "id": str(entry["_id"])} for entry in result["entries"]]
    return result
