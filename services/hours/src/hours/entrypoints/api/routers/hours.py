from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from hours.entrypoints.api.deps import ContainerDep
from hours.entrypoints.api.schemas import VerificationOut, YearHoursOut, binary
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.http import content_disposition

router = APIRouter(prefix="/v1/teachers/{ce_number}/years/{year}", tags=["hours"])
Year = Annotated[int, Path(ge=2000, le=2100)]


@router.get("/hours", response_model=YearHoursOut)
async def get_year_hours(ce_number: str, year: Year, principal: CurrentPrincipal, c: ContainerDep) -> YearHoursOut:
    """`{"public","professional","elective","total","carried_in","entries":[...]}`; professional includes carried_in."""
    return YearHoursOut.model_validate(await c.queries.year_hours(principal, ce_number, year))


@router.get("/verification", response_model=VerificationOut)
async def get_verification(ce_number: str, year: Year, principal: CurrentPrincipal, c: ContainerDep) -> VerificationOut:
    """Annual verification computed from the ledger now (same ledger, same answer)."""
    return VerificationOut.model_validate(await c.queries.verification_of(principal, ce_number, year))


@router.get("/verification.pdf", response_class=Response, responses=binary("application/pdf", "The report (PDF)."))
async def get_verification_pdf(ce_number: str, year: Year, principal: CurrentPrincipal, c: ContainerDep) -> Response:
    """The annual verification report (PDF, Chinese) with every entry of the year."""
    pdf = await c.queries.verification_report(principal, ce_number, year)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": content_disposition(f"verification-{ce_number}-{year}.pdf")},
    )
