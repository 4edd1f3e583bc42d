"""Archives, statistics, the Excel export and the yearly PDF book (routes only translate)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Response

from baseline.entrypoints.api.deps import ArchivesDep, YearPath
from baseline.entrypoints.api.routers.schemas import ArchiveRowOut, StageName, StatisticsOut
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.http import xlsx_download
from jijiao_kit.stepup import ExportPrincipal

router = APIRouter(prefix="/v1", tags=["archives"])


@router.get("/years/{year}/archive", response_model=list[ArchiveRowOut])
async def archive(
    year: YearPath,
    principal: CurrentPrincipal,
    archives: ArchivesDep,
    base_id: str | None = Query(default=None, max_length=64),
    stage: StageName | None = None,
    demand_type: Literal["exchange", "lodging", "shadowing"] | None = Query(default=None, description="研修学习类型"),
) -> list[dict[str, Any]]:
    return await archives.rows(principal, year, base_id=base_id, stage=stage, demand_type=demand_type)


@router.get("/years/{year}/statistics", response_model=list[StatisticsOut])
async def statistics(year: YearPath, principal: CurrentPrincipal, archives: ArchivesDep) -> list[dict[str, Any]]:
    return await archives.statistics(principal, year)


@router.get("/years/{year}/archive.xlsx", response_class=Response)
async def export(year: YearPath, principal: ExportPrincipal, archives: ArchivesDep) -> Response:
    return xlsx_download(await archives.export(principal, year), f"archive-{year}.xlsx")


@router.get("/years/{year}/book.pdf", response_class=Response)
async def book(year: YearPath, principal: CurrentPrincipal, archives: ArchivesDep) -> Response:
    data = await archives.book(principal, year)
    headers = {"Content-Disposition": f'attachment; filename="book-{year}.pdf"'}
    return Response(data, media_type="application/pdf", headers=headers)
