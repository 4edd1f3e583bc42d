from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from hours.adapters.documents import verification_pdf
from hours.entrypoints.api.deps import ContainerDep, naive_utc
from hours.service_layer.queries import entry_view
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.http import content_disposition

router = APIRouter(prefix="/v1/teachers/{ce_number}/years/{year}", tags=["hours"])
Year = Annotated[int, Path(ge=2000, le=2100)]


@router.get("/hours")
async def get_year_hours(ce_number: str, year: Year, principal: CurrentPrincipal, c: ContainerDep) -> dict[str, Any]:
    """`{"public","professional","elective","total","carried_in","entries":[...]}`; professional includes carried_in."""
    return naive_utc(await c.queries.year_hours(principal, ce_number, year))


@router.get("/verification")
async def get_verification(ce_number: str, year: Year, principal: CurrentPrincipal, c: ContainerDep) -> dict[str, Any]:
    """Annual verification computed from the ledger now (same ledger, same answer)."""
    return await c.queries.verification_of(principal, ce_number, year)


@router.get("/verification.pdf", response_class=Response)
async def get_verification_pdf(ce_number: str, year: Year, principal: CurrentPrincipal, c: ContainerDep) -> Response:
    teacher = await c.queries.teacher(principal, ce_number)
    verification = await c.queries.verification_of(principal, ce_number, year)
    entries = [entry_view(e) for e in await c.bank.entries(ce_number, year, year)]
    rules = await c.rules.for_year(year)
    labels = {name: source.label for name, source in rules.sources.items()}
    pdf = verification_pdf(teacher, verification, entries, labels)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": content_disposition(f"verification-{ce_number}-{year}.pdf")},
    )
