from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from hours.adapters.documents import xlsx
from hours.entrypoints.api.deps import ContainerDep
from hours.entrypoints.api.schemas import CycleOut, CycleVerificationOut, VerificationRunOut, binary
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.http import xlsx_download
from jijiao_kit.stepup import ExportPrincipal
from jijiao_kit.xlsx import XLSX_MEDIA_TYPE

router = APIRouter(tags=["verification"])
Year = Annotated[int, Path(ge=2000, le=2100)]


@router.post("/v1/verifications/{year}/run", response_model=VerificationRunOut)
async def run_verification(year: Year, principal: CurrentPrincipal, c: ContainerDep) -> VerificationRunOut:
    """Annual verification of every teacher in the caller's scope; stores results, emits changed ones."""
    return VerificationRunOut.model_validate(await c.verification.run_in_scope(principal, year))


VERIFICATION_HEADERS = [
    "继续教育学号",
    "姓名",
    "学校",
    "年度",
    "总学时",
    "公需科目",
    "专业科目",
    "个人选修科目",
    "上年结转",
    "结转下年",
    "验证结果",
]


@router.get(
    "/v1/schools/{school_id}/verifications/{year}.xlsx",
    response_class=Response,
    responses=binary(XLSX_MEDIA_TYPE, "The school's annual verification (.xlsx)."),
)
async def export_school_verification(
    school_id: str, year: Year, principal: ExportPrincipal, c: ContainerDep
) -> Response:
    """Per-school annual verification export (.xlsx, Chinese headers); needs a step-up token."""
    rows = await c.verification.school_export(principal, year, school_id)
    data = xlsx(
        VERIFICATION_HEADERS,
        (
            [
                r["ce_number"],
                r["name"],
                r["school_name"],
                year,
                r["total"],
                r["public"],
                r["professional"],
                r["elective"],
                r["carried_in"],
                r["carried_out"],
                "通过" if r["passed"] else "未通过",
            ]
            for r in rows
        ),
        "年度验证",
    )
    return xlsx_download(data, f"verification-{school_id}-{year}.xlsx")


class CycleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    start_year: int = Field(ge=2000, le=2100)
    end_year: int = Field(ge=2000, le=2100)


@router.put("/v1/cycles/{cycle_id}", response_model=CycleOut)
async def put_cycle(
    cycle_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,40}$")],
    body: CycleIn,
    principal: CurrentPrincipal,
    c: ContainerDep,
) -> CycleOut:
    """Configure a verification cycle (city admin)."""
    doc = await c.verification.configure_cycle(principal, cycle_id, body.name, body.start_year, body.end_year)
    return CycleOut(id=doc["_id"], name=doc["name"], start_year=doc["start_year"], end_year=doc["end_year"])


@router.get("/v1/cycles/{cycle_id}/verification", response_model=CycleVerificationOut)
async def cycle_verification(
    cycle_id: str, principal: CurrentPrincipal, c: ContainerDep, school_id: str | None = None
) -> CycleVerificationOut:
    """周期验证: CE number, name, school, year, total, public, professional, elective per teacher and year."""
    return CycleVerificationOut.model_validate(await c.verification.cycle_in_scope(principal, cycle_id, school_id))


CYCLE_HEADERS = ["继续教育学号", "姓名", "学校", "年度", "总学时", "公需科目", "专业科目", "个人选修科目"]


@router.get(
    "/v1/cycles/{cycle_id}/verification.xlsx",
    response_class=Response,
    responses=binary(XLSX_MEDIA_TYPE, "The cycle verification (.xlsx)."),
)
async def export_cycle_verification(
    cycle_id: str, principal: ExportPrincipal, c: ContainerDep, school_id: str | None = None
) -> Response:
    result = await c.verification.cycle_in_scope(principal, cycle_id, school_id)
    data = xlsx(
        CYCLE_HEADERS,
        (
            [
                r["ce_number"],
                r["name"],
                r["school_name"],
                r["year"],
                r["total"],
                r["public"],
                r["professional"],
                r["elective"],
            ]
            for r in result["rows"]
        ),
        "周期验证",
    )
    return xlsx_download(data, f"cycle-{cycle_id}.xlsx")
