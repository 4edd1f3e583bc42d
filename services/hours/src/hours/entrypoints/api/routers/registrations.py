from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, File, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from hours.adapters.documents import CATEGORY_LABELS, read_rows, xlsx
from hours.domain.rules import FIRST_YEAR, LAST_YEAR
from hours.entrypoints.api.deps import ContainerDep
from hours.entrypoints.api.schemas import BulkRegistrationOut, LedgerEntryOut, ProofOut, binary
from hours.service_layer.queries import entry_view
from hours.service_layer.registrations import Registration
from jijiao_contracts.enums import HourCategory
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.errors import AppError, InvalidInput
from jijiao_kit.http import xlsx_download
from jijiao_kit.xlsx import XLSX_MEDIA_TYPE

router = APIRouter(tags=["registrations"])

HEADERS = ["继续教育学号", "年度", "学时来源", "学时类别", "学时", "登记编号", "学习强国积分", "证明文件编号"]


MAX_HOURS = 1000
MAX_POINTS = 100_000_000


class RegistrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ce_number: str = Field(min_length=1, max_length=32)
    year: int = Field(ge=FIRST_YEAR, le=LAST_YEAR)
    source: str = Field(min_length=1, max_length=64)
    category: HourCategory
    hours: float | None = Field(None, gt=0, le=MAX_HOURS)
    points: int | None = Field(None, ge=0, le=MAX_POINTS, description="学习强国 only, instead of hours")
    reference: str = Field(min_length=1, max_length=200, description="unique per registrant")
    proof_id: str | None = Field(None, max_length=64, description="学习强国: the uploaded sealed proof")


@router.post("/v1/hour-registrations", status_code=201, response_model=LedgerEntryOut)
async def register_hours(
    body: RegistrationIn, response: Response, principal: CurrentPrincipal, c: ContainerDep
) -> LedgerEntryOut:
    """Register hours for a teacher (organisers, within role and scope). The same reference replays (200)."""
    entry, created = await c.registrations.register(principal, Registration(**body.model_dump()))
    if not created:
        response.status_code = 200
    return LedgerEntryOut.model_validate(entry_view(entry))


@router.get(
    "/v1/hour-registrations/template.xlsx",
    response_class=Response,
    responses=binary(XLSX_MEDIA_TYPE, "The registration template (.xlsx, Chinese headers)."),
)
async def registration_template(principal: CurrentPrincipal) -> Response:
    example = ["2026000101", 2026, "school_based", "个人选修科目", 6, "XB-2026-001", None, None]
    return xlsx_download(xlsx(HEADERS, [example], "学时登记"), "registration-template.xlsx")


def _parse_row(values: dict[str, Any], sources: dict[str, str]) -> Registration:
    def text(key: str) -> str:
        value = values.get(key)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return "" if value is None else str(value).strip()

    category_text = text("学时类别")
    categories = {label: code for code, label in CATEGORY_LABELS.items()} | {c.value: c.value for c in HourCategory}
    if category_text not in categories:
        raise InvalidInput(f"Unknown category {category_text!r}.", code="invalid_category", title="学时类别无效")
    source_text = text("学时来源")
    source = sources.get(source_text, source_text)
    try:
        year = int(text("年度"))
        hours = float(text("学时")) if text("学时") else None
        points = int(float(text("学习强国积分"))) if text("学习强国积分") else None
    except (ValueError, OverflowError) as exc:  # "abc", "nan"; "1e400" is an infinite float
        raise InvalidInput(f"Bad number: {exc}", code="invalid_number", title="数字格式有误") from exc
    # The bounds of a single registration (RegistrationIn): a row is not a way around them.
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(
            f"Year {year} is outside {FIRST_YEAR}-{LAST_YEAR}.", code="invalid_year", title="年度超出允许范围"
        )
    if hours is not None and not math.isfinite(hours):
        raise InvalidInput(f"Bad number of hours: {hours}.", code="invalid_number", title="数字格式有误")
    if hours is not None and hours > MAX_HOURS:
        raise InvalidInput(
            f"At most {MAX_HOURS} hours in one registration.", code="hours_out_of_range", title="学时超出允许范围"
        )
    if points is not None and points > MAX_POINTS:
        raise InvalidInput(
            f"At most {MAX_POINTS} points in one registration.",
            code="points_out_of_range",
            title="学习强国积分超出允许范围",
        )
    if not text("继续教育学号") or not text("登记编号"):
        raise InvalidInput(
            "CE number and reference are required.", code="missing_field", title="继续教育学号和登记编号必填"
        )
    return Registration(
        ce_number=text("继续教育学号"),
        year=year,
        source=source,
        category=HourCategory(categories[category_text]),
        reference=text("登记编号"),
        hours=hours,
        points=points,
        proof_id=text("证明文件编号") or None,
    )


@router.post("/v1/hour-registrations/bulk", response_model=BulkRegistrationOut)
async def register_hours_bulk(
    file: Annotated[UploadFile, File()], principal: CurrentPrincipal, c: ContainerDep
) -> BulkRegistrationOut:
    """Bulk registration from an .xlsx with the Chinese header row of the template; one report line per row."""
    data = await file.read(c.settings.max_attachment_bytes + 1)
    if len(data) > c.settings.max_attachment_bytes:
        raise InvalidInput("The workbook is too large.", code="file_too_large", title="文件过大")
    header, raw_rows = await read_rows(data, c.settings.max_bulk_rows)
    missing = [name for name in HEADERS[:6] if name not in header]
    if missing:
        raise InvalidInput(
            f"Missing columns: {', '.join(missing)}.",
            code="missing_columns",
            title="表头缺少必需的列",
            extra={"missing": missing},
        )
    rows: list[tuple[int, Registration | AppError]] = []
    for number, raw in raw_rows:
        values = dict(zip(header, raw, strict=False))
        try:
            year = int(float(str(values.get("年度") or 0)))
        except (ValueError, OverflowError):
            year = 0
        # Source labels of the row's year; a year without rules is reported by the row's own check.
        year_rules = await c.rules.for_year(year) if FIRST_YEAR <= year <= LAST_YEAR else None
        labels = {s.label: name for name, s in year_rules.sources.items()} if year_rules else {}
        try:
            rows.append((number, _parse_row(values, labels)))
        except AppError as exc:
            rows.append((number, exc))
    report = await c.registrations.register_rows(principal, rows)
    summary = {status: sum(1 for r in report if r["status"] == status) for status in ("credited", "duplicate", "error")}
    return BulkRegistrationOut.model_validate({"rows": len(report), **summary, "report": report})


@router.post("/v1/proofs", status_code=201, response_model=ProofOut)
async def upload_proof(file: Annotated[UploadFile, File()], principal: CurrentPrincipal, c: ContainerDep) -> ProofOut:
    """A sealed proof (加盖公章的证明) for 学习强国 hours: PDF or image; its id goes into the registration."""
    data = await file.read(c.settings.max_attachment_bytes + 1)
    doc = await c.registrations.upload_proof(principal, file.filename or "proof", data)
    return ProofOut(proof_id=doc["_id"], filename=doc["filename"], content_type=doc["content_type"], size=doc["size"])
