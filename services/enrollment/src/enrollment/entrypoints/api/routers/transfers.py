"""教师调动: the receiving school applies; the district (same district) or the city (across) decides."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field, field_validator

from enrollment.entrypoints.api.deps import TransfersDep
from enrollment.service_layer.transfers import TeacherProof
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.names import Name
from jijiao_kit.paging import Skip

router = APIRouter(tags=["transfers"])


class TransferIn(BaseModel):
    """The receiving school names the teacher by CE number AND something only it can know from the
    teacher: the name, or the last six characters of the ID number (at least one of the two)."""

    ce_number: str = Field(min_length=1, max_length=20, description="继续教育学号 of the teacher to move in")
    name: Name | None = Field(default=None, min_length=1, max_length=50, description="教师姓名")
    id_number_tail: str | None = Field(
        default=None, min_length=6, max_length=6, description="身份证号后六位 (instead of or with the name)"
    )
    note: str | None = Field(default=None, max_length=200)


class RejectIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200, description="退回原因")


class TransferOut(BaseModel):
    id: str
    ce_number: str
    teacher_name: str
    from_school_id: str
    from_school_name: str
    from_district: str
    to_school_id: str
    to_school_name: str
    to_district: str
    approver_level: str
    approver_district: str | None
    status: str
    note: str | None = None
    applied_by: str
    applied_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None

    @field_validator("applied_at", "decided_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    @classmethod
    def of(cls, doc: dict[str, Any]) -> TransferOut:
        return cls(id=doc["_id"], **{k: v for k, v in doc.items() if k in cls.model_fields and k != "id"})


@router.post(
    "/v1/schools/{school_id}/transfers",
    status_code=status.HTTP_201_CREATED,
    response_model=TransferOut,
    responses={
        403: {"description": "Special user (special_user) or not this school's admin"},
        404: {"description": "teacher_not_found: no teacher with this CE number AND this name / ID tail"},
        409: {"description": "unpaid_selections, same_school or transfer_pending"},
        422: {"description": "teacher_identity_required: give the name or the last six ID characters"},
        429: {"description": "Too many applications by this admin; see Retry-After"},
    },
)
async def apply_transfer(
    school_id: str, body: TransferIn, principal: CurrentPrincipal, transfers: TransfersDep
) -> TransferOut:
    proof = TeacherProof(name=body.name, id_number_tail=body.id_number_tail)
    return TransferOut.of(await transfers.apply(principal, school_id, body.ce_number.strip(), proof, body.note))


@router.get("/v1/transfers", response_model=list[TransferOut])
async def list_transfers(
    principal: CurrentPrincipal,
    transfers: TransfersDep,
    status: str | None = Query(default=None, pattern="^(pending|approving|approved|rejected)$"),
    school_id: str | None = Query(default=None, description="receiving school"),
    awaiting_me: bool = Query(default=False, description="pending applications the caller decides"),
    limit: int = Query(default=100, ge=1, le=500),
    skip: Skip = 0,
) -> list[TransferOut]:
    docs = await transfers.list(
        principal, status=status, school_id=school_id, awaiting_me=awaiting_me, limit=limit, skip=skip
    )
    return [TransferOut.of(doc) for doc in docs]


@router.get("/v1/transfers/{transfer_id}", response_model=TransferOut)
async def get_transfer(transfer_id: str, principal: CurrentPrincipal, transfers: TransfersDep) -> TransferOut:
    return TransferOut.of(await transfers.get(principal, transfer_id))


@router.post(
    "/v1/transfers/{transfer_id}/approve",
    response_model=TransferOut,
    responses={403: {"description": "Not the approver"}, 409: {"description": "Already decided or refused"}},
)
async def approve_transfer(transfer_id: str, principal: CurrentPrincipal, transfers: TransfersDep) -> TransferOut:
    return TransferOut.of(await transfers.approve(principal, transfer_id))


@router.post("/v1/transfers/{transfer_id}/reject", response_model=TransferOut)
async def reject_transfer(
    transfer_id: str, body: RejectIn, principal: CurrentPrincipal, transfers: TransfersDep
) -> TransferOut:
    return TransferOut.of(await transfers.reject(principal, transfer_id, body.reason))
