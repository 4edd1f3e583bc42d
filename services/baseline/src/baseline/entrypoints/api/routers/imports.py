"""Excel import of bases and zones (the raw .xlsx as the request body; routes only translate)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request

from baseline.adapters.sheets import MAX_BYTES
from baseline.entrypoints.api.deps import ImportsDep
from baseline.entrypoints.api.routers.schemas import ImportReportOut
from baseline.service_layer.imports import RowReport
from baseline.service_layer.problems import problem
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.xlsx import XLSX_MEDIA_TYPE

router = APIRouter(prefix="/v1", tags=["reference data"])
BODY = {
    "requestBody": {"required": True, "content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}
}


async def _body(request: Request) -> bytes:
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > MAX_BYTES:
            raise problem("import_too_large")
    return bytes(data)


def report(rows: list[RowReport]) -> dict[str, Any]:
    accepted = sum(r.accepted for r in rows)
    return {"accepted": accepted, "refused": len(rows) - accepted, "rows": [asdict(r) for r in rows]}


@router.post("/bases/import", response_model=ImportReportOut, openapi_extra=BODY)
async def import_bases(request: Request, principal: CurrentPrincipal, imports: ImportsDep) -> dict[str, Any]:
    """Columns: 名称, 学段 (幼儿园/小学/初中/高中), 地区, 联系人, 联系电话, 邮箱."""
    return report(await imports.bases(principal, await _body(request)))


@router.post("/zones/import", response_model=ImportReportOut, openapi_extra=BODY)
async def import_zones(request: Request, principal: CurrentPrincipal, imports: ImportsDep) -> dict[str, Any]:
    """Columns: 名称, 地区, 联系人, 联系电话, 邮箱."""
    return report(await imports.zones(principal, await _body(request)))
