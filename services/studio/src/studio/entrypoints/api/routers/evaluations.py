from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from jijiao_kit.auth import CurrentPrincipal
from studio.domain.evaluation import Grade
from studio.entrypoints.api.deps import EvaluationsDep

router = APIRouter(prefix="/v1/studios/{studio_id}/evaluations", tags=["evaluations"])
Period = Path(pattern=r"^(cycle|[0-9]{4})$", description="a year of the cycle, or 'cycle'")


class EvaluationIn(BaseModel):
    grade: Grade
    comment: str = Field(default="", max_length=2000, description="评语")


class EvaluationOut(BaseModel):
    ce_number: str
    period: str
    grade: Grade
    comment: str


class SheetRowOut(BaseModel):
    ce_number: str
    name: str | None
    period: str
    grade: Grade | None
    comment: str | None
    required_offline: int
    attended_offline: int
    must_be_unqualified: bool
    may_be_excellent: bool


@router.get("/{period}", response_model=list[SheetRowOut])
async def sheet(
    studio_id: str, principal: CurrentPrincipal, service: EvaluationsDep, period: str = Period
) -> list[dict[str, Any]]:
    return await service.sheet(principal, studio_id, period)


@router.put("/{period}/{ce_number}", response_model=EvaluationOut)
async def evaluate(
    studio_id: str,
    ce_number: str,
    body: EvaluationIn,
    principal: CurrentPrincipal,
    service: EvaluationsDep,
    period: str = Period,
) -> dict[str, Any]:
    return await service.evaluate(principal, studio_id, period, ce_number, body.grade, body.comment)


@router.get(
    "/cycle/{ce_number}/certificate.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def certificate(studio_id: str, ce_number: str, principal: CurrentPrincipal, service: EvaluationsDep) -> Response:
    pdf = await service.certificate(principal, studio_id, ce_number)
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": 'attachment; filename="certificate.pdf"'}
    )
