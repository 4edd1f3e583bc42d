"""Bills, payment notices, payments and the payment queries (DOMAIN §3). Routes only translate."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field, PlainSerializer

from enrollment.adapters.billing_excel import rows_to_xlsx
from enrollment.domain import billing
from enrollment.entrypoints.api.deps import ContainerDep
from enrollment.service_layer.billing import ADMISSION_HEADERS, UNIT_PAYMENT_HEADERS, BillingService, utc
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.errors import InvalidInput
from jijiao_kit.http import content_disposition, xlsx_download
from jijiao_kit.stepup import ExportPrincipal
from jijiao_kit.timeutil import BoundedUtcDateTime
from jijiao_kit.xlsx import XLSX_MEDIA_TYPE

router = APIRouter(tags=["bills"])

#: Yuan with two decimals, a JSON number on the wire.
Yuan = Annotated[Decimal, PlainSerializer(lambda value: float(value), return_type=float, when_used="json")]


def service(container: ContainerDep) -> BillingService:
    return container.billing


BillingDep = Annotated[BillingService, Depends(service)]


def _utc(moment: Any) -> datetime:
    return utc(moment).astimezone(UTC)


def _utc_or_none(moment: Any) -> datetime | None:
    return _utc(moment) if moment else None


class PaymentOut(BaseModel):
    reference: str
    amount: Yuan
    paid_at: datetime
    recorded_at: datetime

    @classmethod
    def of(cls, doc: dict[str, Any]) -> PaymentOut:
        return cls(
            reference=doc["reference"],
            amount=billing.fen_to_yuan(doc["amount_fen"]),
            paid_at=_utc(doc["paid_at"]),
            recorded_at=_utc(doc["recorded_at"]),
        )


class BillOut(BaseModel):
    """账单: term, bill number, name, amount, created at, payee, status (+ what is paid)."""

    id: str
    term: str
    bill_number: str
    name: str
    amount: Yuan
    paid: Yuan
    outstanding: Yuan = Field(description="未缴金额: what is still to pay (never negative)")
    overpaid: Yuan = Field(
        description="多缴金额: paid beyond the bill after selections were deleted from it (refunded outside)"
    )
    created_at: datetime
    payee: str
    status: str = Field(
        description="unpaid | partially_paid | paid | void (every selection deleted, nothing paid). A selection "
        "added after payment makes a paid bill partially paid again; what was paid stays paid."
    )
    school_id: str
    school_name: str
    payer: str = Field(description="缴款单位: the school's seal name")
    district: str | None
    teacher_count: int
    selection_count: int
    payment_due_at: datetime | None
    payments: list[PaymentOut]

    @classmethod
    def of(cls, doc: dict[str, Any]) -> BillOut:
        payments = sorted((doc.get("payments") or {}).values(), key=lambda p: utc(p["recorded_at"]))
        return cls(
            id=doc["_id"],
            term=doc["term"],
            bill_number=doc["bill_number"],
            name=doc["name"],
            amount=billing.fen_to_yuan(doc["amount_fen"]),
            paid=billing.fen_to_yuan(doc["paid_fen"]),
            outstanding=billing.fen_to_yuan(billing.outstanding_fen(doc["amount_fen"], doc["paid_fen"])),
            overpaid=billing.fen_to_yuan(billing.overpaid_fen(doc["amount_fen"], doc["paid_fen"])),
            created_at=_utc(doc["created_at"]),
            payee=doc["payee"],
            status=doc["status"],
            school_id=doc["school_id"],
            school_name=doc["school_name"],
            payer=doc["seal_name"],
            district=doc.get("district"),
            teacher_count=doc["teacher_count"],
            selection_count=doc["selection_count"],
            payment_due_at=_utc_or_none(doc.get("payment_due_at")),
            payments=[PaymentOut.of(p) for p in payments],
        )


class IssueOut(BaseModel):
    term: str
    issued: list[BillOut]
    already_issued: int


class PaymentIn(BaseModel):
    reference: str = Field(min_length=1, max_length=100, description="Payment reference (缴费流水号); idempotency key")
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2, description="Yuan, at most two decimals")
    paid_at: BoundedUtcDateTime | None = Field(
        default=None, description="When the money was paid (ISO 8601 with offset)"
    )


class PaymentRecordedOut(BaseModel):
    created: bool = Field(description="False when this reference was recorded before (nothing changed)")
    payment: PaymentOut
    bill: BillOut


class AdmissionOut(BaseModel):
    """选课录取查询 row."""

    selection_id: str
    term: str
    district: str | None
    school_id: str
    school_name: str | None
    payee: str | None
    subject: str | None
    ce_number: str
    name: str | None
    course_code: str
    course_name: str | None
    attribute: str | None
    hours: float | None
    training_fee: Yuan
    material_fee: Yuan
    total: Yuan
    amount_due: Yuan = Field(description="What this selection adds to its bill (the §3 amount rule)")
    paid: bool

    @classmethod
    def of(cls, row: dict[str, Any]) -> AdmissionOut:
        return cls(
            **{k: v for k, v in row.items() if k in cls.model_fields},
            training_fee=billing.fen_to_yuan(row["training_fee_fen"]),
            material_fee=billing.fen_to_yuan(row["material_fee_fen"]),
            total=billing.fen_to_yuan(row["total_fen"]),
            amount_due=billing.fen_to_yuan(row["due_fen"]),
        )


class AdmissionFilters(BaseModel):
    school_id: str | None = None
    district: str | None = None
    payee: str | None = None
    subject: str | None = None
    ce_number: str | None = None
    name: str | None = None
    course_code: str | None = None
    paid: bool | None = None


@router.post("/v1/terms/{term}/bills/issue", response_model=IssueOut, operation_id="issue_bills")
async def issue_bills(term: str, principal: CurrentPrincipal, svc: BillingDep) -> IssueOut:
    """Issue the term's bills (one per school × payee) after the window closed; idempotent."""
    summary = await svc.issue_bills(principal, term)
    return IssueOut(term=term, issued=[BillOut.of(b) for b in summary.issued], already_issued=summary.already_issued)


@router.get("/v1/terms/{term}/bills", response_model=list[BillOut], operation_id="list_bills")
async def list_bills(
    term: str, principal: CurrentPrincipal, svc: BillingDep, school_id: str | None = None
) -> list[BillOut]:
    return [BillOut.of(b) for b in await svc.list_bills(principal, term, school_id)]


@router.get("/v1/bills/{bill_id}", response_model=BillOut, operation_id="get_bill")
async def get_bill(bill_id: str, principal: CurrentPrincipal, svc: BillingDep) -> BillOut:
    return BillOut.of(await svc.get_bill(principal, bill_id))


@router.get(
    "/v1/bills/{bill_id}/notice.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    operation_id="payment_notice_pdf",
)
async def payment_notice(bill_id: str, principal: CurrentPrincipal, svc: BillingDep) -> Response:
    """缴款通知书 (payer = the school's seal name), printable PDF."""
    bill, pdf = await svc.notice_pdf(principal, bill_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": content_disposition(f"notice-{bill['bill_number']}.pdf")},
    )


@router.post(
    "/v1/bills/{bill_id}/payments",
    response_model=PaymentRecordedOut,
    status_code=status.HTTP_201_CREATED,
    operation_id="record_payment",
    responses={200: {"description": "This reference was recorded before; nothing changed"}},
)
async def record_payment(
    bill_id: str, body: PaymentIn, principal: CurrentPrincipal, svc: BillingDep, response: Response
) -> PaymentRecordedOut:
    try:
        amount_fen = billing.yuan_to_fen(body.amount)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="invalid_amount", title="金额最多保留两位小数") from exc
    result = await svc.record_payment(
        principal, bill_id, reference=body.reference, amount_fen=amount_fen, paid_at=body.paid_at
    )
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return PaymentRecordedOut(
        created=result.created, payment=PaymentOut.of(result.payment), bill=BillOut.of(result.bill)
    )


@router.get("/v1/terms/{term}/admissions", response_model=list[AdmissionOut], operation_id="admission_query")
async def admissions(
    term: str, principal: ExportPrincipal, svc: BillingDep, filters: Annotated[AdmissionFilters, Query()]
) -> list[AdmissionOut]:
    """选课录取查询 with the filters of §3. Viewing teachers' selections and payments is sensitive
    (seed: 查看敏感信息 incl. 选课信息、缴费信息), so it needs the step-up token like the export."""
    return [AdmissionOut.of(r) for r in await svc.admissions(principal, term, filters.model_dump())]


@router.get(
    "/v1/terms/{term}/admissions.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}},
    operation_id="admission_export",
)
async def admissions_export(
    term: str, principal: ExportPrincipal, svc: BillingDep, filters: Annotated[AdmissionFilters, Query()]
) -> Response:
    """The admission query as .xlsx (sensitive: needs the step-up token)."""
    rows = await svc.admissions(principal, term, filters.model_dump())
    return xlsx_download(
        rows_to_xlsx("选课录取查询", ADMISSION_HEADERS, svc.admission_table(rows)), f"admissions-{term}.xlsx"
    )


@router.get("/v1/terms/{term}/unit-payments", response_model=list[BillOut], operation_id="unit_payment_query")
async def unit_payments(
    term: str, principal: CurrentPrincipal, svc: BillingDep, school_id: str | None = None
) -> list[BillOut]:
    """单位缴费查询: per school and payee, what is due, paid and outstanding."""
    return [BillOut.of(b) for b in await svc.unit_payments(principal, term, school_id)]


@router.get(
    "/v1/terms/{term}/unit-payments.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}},
    operation_id="unit_payment_export",
)
async def unit_payments_export(
    term: str, principal: ExportPrincipal, svc: BillingDep, school_id: str | None = None
) -> Response:
    bills = await svc.unit_payments(principal, term, school_id)
    return xlsx_download(
        rows_to_xlsx("单位缴费查询", UNIT_PAYMENT_HEADERS, svc.unit_payment_table(bills)), f"unit-payments-{term}.xlsx"
    )
