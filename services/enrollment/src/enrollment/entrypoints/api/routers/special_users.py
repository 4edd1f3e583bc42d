"""Special users (特殊用户): flagging at the payment deadline, listing, clearing (DOMAIN §1, §3)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, UploadFile
from pydantic import BaseModel, Field

from enrollment.entrypoints.api.deps import ContainerDep
from enrollment.service_layer.special_users import MAX_PROOF_BYTES, PROOF_TYPES, ProofFile, SpecialUserService
from jijiao_kit.auth import CurrentPrincipal
from jijiao_kit.timeutil import as_utc
from jijiao_kit.uploads import UploadRejected, check_upload

router = APIRouter(tags=["special users"])


def service(container: ContainerDep) -> SpecialUserService:
    return container.special_users


SpecialUsersDep = Annotated[SpecialUserService, Depends(service)]
Method = Literal["in_person", "email"]


class FlagOut(BaseModel):
    term: str
    flagged: list[str] = Field(description="CE numbers flagged by this run")
    term_already_flagged: bool


class FlagRecord(BaseModel):
    term: str
    course_codes: list[str]
    flagged_at: datetime | None


class SpecialUserOut(BaseModel):
    ce_number: str
    name: str | None
    school_id: str | None
    school_name: str | None
    district: str | None
    special_user: bool
    special_user_times: int
    flags: list[FlagRecord]

    @classmethod
    def of(cls, doc: dict[str, Any]) -> SpecialUserOut:
        flags = []
        for term, flag in sorted((doc.get("special_flags") or {}).items()):
            flagged_at = as_utc(flag.get("flagged_at"))
            flags.append(
                FlagRecord(
                    term=term,
                    course_codes=list(flag.get("course_codes") or []),
                    flagged_at=flagged_at.astimezone(UTC) if flagged_at else None,
                )
            )
        return cls(
            ce_number=doc["_id"],
            name=doc.get("name"),
            school_id=doc.get("school_id"),
            school_name=doc.get("school_name"),
            district=doc.get("district"),
            special_user=bool(doc.get("special_user")),
            special_user_times=int(doc.get("special_user_times") or 0),
            flags=flags,
        )


class ClearRowOut(BaseModel):
    ce_number: str
    cleared: bool
    code: str | None = Field(description="Why the row was refused (not_special_user, teacher_not_in_school, ...)")


async def _proof(upload: UploadFile | None) -> ProofFile | None:
    if upload is None or not upload.filename:
        return None
    data = await upload.read(MAX_PROOF_BYTES + 1)
    if not data or len(data) > MAX_PROOF_BYTES:
        return ProofFile(upload.filename, "", data)  # the service refuses it (invalid_proof_file)
    # The type is the content's, checked by its whole structure, never the client's word.
    try:
        checked = await check_upload(data, upload.filename, PROOF_TYPES)
    except UploadRejected:
        return ProofFile(upload.filename, "", data)  # the service refuses it (invalid_proof_file)
    return ProofFile(upload.filename, checked.media_type, data)


@router.post("/v1/terms/{term}/special-users/flag", response_model=FlagOut, operation_id="flag_special_users")
async def flag(term: str, principal: CurrentPrincipal, svc: SpecialUsersDep) -> FlagOut:
    """Run the payment-deadline flagging now (the worker also runs it on schedule); idempotent per term."""
    summary = await svc.flag_term(principal, term)
    return FlagOut(term=summary.term, flagged=summary.flagged, term_already_flagged=summary.term_already_flagged)


@router.get("/v1/special-users", response_model=list[SpecialUserOut], operation_id="list_special_users")
async def list_special_users(
    principal: CurrentPrincipal, svc: SpecialUsersDep, school_id: str | None = None
) -> list[SpecialUserOut]:
    """特殊用户信息 within the caller's scope."""
    return [SpecialUserOut.of(doc) for doc in await svc.list_special_users(principal, school_id)]


@router.post(
    "/v1/special-users/{ce_number}/clearance", response_model=SpecialUserOut, operation_id="clear_special_user"
)
async def clear(
    ce_number: str,
    principal: CurrentPrincipal,
    svc: SpecialUsersDep,
    method: Annotated[Method, Form(description="in_person (本人持证件) or email (签字申请表+证件图片)")],
    identity_checked: Annotated[bool, Form(description="The teacher's valid ID was checked")],
    reason: Annotated[str | None, Form(max_length=200)] = None,
    proof: UploadFile | None = None,
) -> SpecialUserOut:
    """Individual clearing: the second time (and later) needs the school-sealed proof file."""
    teacher = await svc.clear(
        principal, ce_number, method=method, identity_checked=identity_checked, reason=reason, proof=await _proof(proof)
    )
    return SpecialUserOut.of(teacher)


@router.post(
    "/v1/schools/{school_id}/special-users/clearance",
    response_model=list[ClearRowOut],
    operation_id="clear_special_users_collectively",
)
async def clear_collective(
    school_id: str,
    principal: CurrentPrincipal,
    svc: SpecialUsersDep,
    ce_numbers: Annotated[list[str], Form(description="The teachers listed on the school's form")],
    method: Annotated[Method, Form()],
    identity_checked: Annotated[bool, Form(description="The handling person's ID was checked")],
    proof: UploadFile,
    reason: Annotated[str | None, Form(max_length=200)] = None,
) -> list[ClearRowOut]:
    """Collective clearing for a school with its sealed application; one result per teacher."""
    listed = [ce.strip() for value in ce_numbers for ce in value.split(",") if ce.strip()]
    rows = await svc.clear_collective(
        principal,
        school_id,
        listed,
        method=method,
        identity_checked=identity_checked,
        reason=reason,
        proof=await _proof(proof),
    )
    return [ClearRowOut(ce_number=r.ce_number, cleared=r.cleared, code=r.code) for r in rows]
