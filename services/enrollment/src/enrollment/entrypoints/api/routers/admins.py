"""Administrator accounts: registration (real-name, phone-bound), own profile, phone re-binding,
unlocking locked users (已锁定用户)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, EmailStr, Field, field_validator

from enrollment.entrypoints.api.deps import AccountsDep
from enrollment.service_layer.accounts import NewAdmin
from jijiao_kit.auth import CurrentPrincipal, Principal
from jijiao_kit.errors import Forbidden
from jijiao_kit.names import Name
from jijiao_kit.stepup import STEP_UP_HEADER, StepUpVerifier

router = APIRouter(tags=["admins"])

REBIND_PURPOSE = "rebind_phone"


class AdminIn(BaseModel):
    username: str = Field(min_length=3, max_length=32, description="登录用户名 (starts with a letter)")
    name: Name = Field(min_length=1, max_length=50, description="真实姓名")
    mobile: str = Field(pattern=r"^1\d{10}$", description="绑定手机")
    password: str = Field(min_length=8, max_length=128)
    role: Literal["school_admin", "district_admin", "city_admin"]
    school_id: str | None = None
    district: str | None = None
    email: EmailStr | None = None


class SchoolAdminIn(BaseModel):
    username: str = Field(min_length=3, max_length=32)
    name: Name = Field(min_length=1, max_length=50)
    mobile: str = Field(pattern=r"^1\d{10}$")
    password: str = Field(min_length=8, max_length=128)
    email: EmailStr | None = None


class AdminOut(BaseModel):
    id: str
    username: str
    name: str
    mobile: str
    email: str | None = None
    gender: str | None = None
    phone: str | None = None
    address: str | None = None
    roles: list[str]
    school_id: str | None = None
    district: str | None = None
    locked: bool = False
    created_at: datetime

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value

    @classmethod
    def of(cls, doc: dict[str, Any]) -> AdminOut:
        scopes = doc.get("scopes") or {}
        fields = {k: v for k, v in doc.items() if k in cls.model_fields and k not in ("id", "school_id", "district")}
        return cls(
            id=doc["_id"],
            school_id=scopes.get("school_id"),
            district=scopes.get("district"),
            locked=bool((doc.get("credentials") or {}).get("locked")),
            **{k: v for k, v in fields.items() if k != "locked"},
        )


class ProfileIn(BaseModel):
    """What an admin edits on their own profile; the bound mobile changes only by re-binding."""

    model_config = {"extra": "forbid"}

    username: str | None = Field(default=None, min_length=3, max_length=32)
    name: Name | None = Field(default=None, min_length=1, max_length=50)
    gender: Literal["male", "female"] | None = None
    phone: str | None = Field(default=None, max_length=30, description="办公电话")
    address: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = None


class RebindIn(BaseModel):
    mobile: str = Field(pattern=r"^1\d{10}$", description="the new phone the step-up code was sent to")


class LockedUserOut(BaseModel):
    subject: str
    kind: Literal["teacher", "admin"]
    login: str
    name: str
    mobile: str | None = None
    failed_attempts: int


def verify_rebind_step_up(request: Request, principal: Principal, mobile: str) -> dict[str, Any]:
    """Phone re-binding always needs notify's step-up token proven on the NEW phone: notify signs it
    with purpose ``rebind_phone:<new mobile>``. Not switchable (the switch governs exports; an account
    takeover must not hinge on it)."""
    token = request.headers.get(STEP_UP_HEADER)
    if not token:
        raise Forbidden(
            "Re-binding the phone needs a step-up token (X-Step-Up-Token) for purpose rebind_phone:<mobile>.",
            code="step_up_required",
            title="更换绑定手机需要新手机的短信验证码",
        )
    verifier: StepUpVerifier = request.app.state.step_up_verifier
    return verifier.verify(token, subject=principal.subject, purpose=f"{REBIND_PURPOSE}:{mobile}")


@router.post("/v1/admins", status_code=status.HTTP_201_CREATED, response_model=AdminOut)
async def register_admin(body: AdminIn, principal: CurrentPrincipal, accounts: AccountsDep) -> AdminOut:
    scopes = {k: v for k, v in (("school_id", body.school_id), ("district", body.district)) if v}
    new = NewAdmin(
        body.username,
        body.name,
        body.mobile,
        body.password,
        [body.role],
        scopes,
        str(body.email) if body.email else None,
    )
    return AdminOut.of(await accounts.register_admin(principal, new))


@router.post("/v1/schools/{school_id}/admins", status_code=status.HTTP_201_CREATED, response_model=AdminOut)
async def register_school_admin(
    school_id: str, body: SchoolAdminIn, principal: CurrentPrincipal, accounts: AccountsDep
) -> AdminOut:
    new = NewAdmin(
        body.username,
        body.name,
        body.mobile,
        body.password,
        ["school_admin"],
        {"school_id": school_id},
        str(body.email) if body.email else None,
    )
    return AdminOut.of(await accounts.register_admin(principal, new))


@router.get("/v1/schools/{school_id}/admins", response_model=list[AdminOut])
async def list_school_admins(school_id: str, principal: CurrentPrincipal, accounts: AccountsDep) -> list[AdminOut]:
    return [AdminOut.of(doc) for doc in await accounts.list_admins(principal, school_id)]


@router.get("/v1/admins/me", response_model=AdminOut)
async def my_profile(principal: CurrentPrincipal, accounts: AccountsDep) -> AdminOut:
    return AdminOut.of(await accounts.me(principal))


@router.patch("/v1/admins/me", response_model=AdminOut)
async def edit_my_profile(body: ProfileIn, principal: CurrentPrincipal, accounts: AccountsDep) -> AdminOut:
    changes = body.model_dump(exclude_unset=True)
    if "email" in changes and changes["email"] is not None:
        changes["email"] = str(changes["email"])
    return AdminOut.of(await accounts.update_profile(principal, changes))


@router.post(
    "/v1/admins/me/mobile",
    response_model=AdminOut,
    responses={403: {"description": "step_up_required: no valid step-up token for rebind_phone"}},
)
async def rebind_phone(
    body: RebindIn, request: Request, principal: CurrentPrincipal, accounts: AccountsDep
) -> AdminOut:
    """Re-bind the account's phone; the step-up token must come from a code sent to the new phone."""
    claims = verify_rebind_step_up(request, principal, body.mobile)
    return AdminOut.of(await accounts.rebind_phone(principal, body.mobile, claims))


@router.get("/v1/schools/{school_id}/locked-users", response_model=list[LockedUserOut])
async def locked_users(school_id: str, principal: CurrentPrincipal, accounts: AccountsDep) -> list[LockedUserOut]:
    return [LockedUserOut(**row) for row in await accounts.locked_users(principal, school_id)]


@router.post("/v1/teachers/{ce_number}/unlock", status_code=status.HTTP_204_NO_CONTENT)
async def unlock_teacher(ce_number: str, principal: CurrentPrincipal, accounts: AccountsDep) -> Response:
    await accounts.unlock(principal, f"teacher:{ce_number}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/v1/admins/{account_id}/unlock", status_code=status.HTTP_204_NO_CONTENT)
async def unlock_admin(account_id: str, principal: CurrentPrincipal, accounts: AccountsDep) -> Response:
    await accounts.unlock(principal, f"account:{account_id}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
