"""Administrator accounts: real-name, phone-bound, one per person (§1)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from enrollment.adapters.passwords import PasswordHasher
from enrollment.adapters.repositories import AccountRepository, AlreadyExists, SchoolRepository, TeacherRepository
from enrollment.domain.accounts import PASSWORD_TITLES, may_create_admin, password_problem, username_problem
from enrollment.domain.roster import InvalidField, check_mobile, check_name, check_optional
from enrollment.service_layer.access import ensure_school_admin_of, is_school_admin_of
from enrollment.service_layer.roster import actor_of, invalid_field
from jijiao_contracts import Actor
from jijiao_contracts.enums import Role
from jijiao_contracts.events.enrollment import (
    PRODUCER,
    AccountUnlocked,
    AdminChanged,
    AdminPhoneRebound,
    AdminRegistered,
)
from jijiao_kit.access import ADMIN_LEVELS, covers
from jijiao_kit.auth import Principal, TokenVersions
from jijiao_kit.clock import Clock
from jijiao_kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from jijiao_kit.outbox import outbox_entry

Doc = dict[str, Any]

#: What an admin edits on their own profile (§1); the bound mobile changes only through re-binding.
PROFILE_FIELDS = ("username", "name", "gender", "phone", "address", "email")


@dataclass(frozen=True)
class NewAdmin:
    username: str
    name: str
    mobile: str
    password: str
    roles: list[str]
    scopes: dict[str, Any] = field(default_factory=dict)
    email: str | None = None
    #: set by someone else: the admin must replace it at the first sign-in (claim must_change_password)
    temporary_password: bool = True


class AccountService:
    def __init__(
        self,
        accounts: AccountRepository,
        hasher: PasswordHasher,
        clock: Clock,
        *,
        teachers: TeacherRepository | None = None,
        schools: SchoolRepository | None = None,
        token_versions: TokenVersions | None = None,
    ) -> None:
        self.token_versions = token_versions
        self.accounts = accounts
        self.hasher = hasher
        self.clock = clock
        self._teachers = teachers
        self._schools = schools

    @property
    def teachers(self) -> TeacherRepository:
        assert self._teachers is not None, "AccountService built without teachers"
        return self._teachers

    @property
    def schools(self) -> SchoolRepository:
        assert self._schools is not None, "AccountService built without schools"
        return self._schools

    async def register_admin(self, principal: Principal, new: NewAdmin) -> Doc:
        """Another real-name, phone-bound admin (a school may have several; no shared accounts)."""
        try:
            check_name(new.name)
            check_mobile(new.mobile)
            check_optional("email", new.email)
        except InvalidField as exc:
            raise invalid_field(exc) from exc
        problem = username_problem(new.username)
        if problem:
            raise InvalidInput(
                f"Username not acceptable: {problem}.",
                code="invalid_username",
                title="用户名须为3至32位字母、数字或._-，且以字母开头",
            )
        if len(new.roles) != 1:
            raise InvalidInput("Give exactly one admin role.", code="invalid_role", title="请选择一个管理员角色")
        role = new.roles[0]
        scopes = dict(new.scopes)
        if role == Role.SCHOOL_ADMIN.value:
            school = await self.schools.get(str(scopes.get("school_id")))
            if school is None:
                raise NotFound("School not found.", code="school_not_found", title="学校不存在")
            scopes = {"school_id": school["_id"], "district": school["district"]}
        elif role == Role.DISTRICT_ADMIN.value:
            if not scopes.get("district"):
                raise InvalidInput("A district admin needs a district.", code="district_required", title="请选择所在区")
            scopes = {"district": scopes["district"]}
        else:
            scopes = {}
        if not may_create_admin(principal.roles, principal.scopes, role, scopes):
            raise Forbidden("Not allowed to register this admin.", code="admin_forbidden", title="无权新增该管理员")
        account = await self.create_admin(
            NewAdmin(new.username.strip(), new.name.strip(), new.mobile, new.password, [role], scopes, new.email),
            actor=actor_of(principal),
        )
        return account

    async def list_admins(self, principal: Principal, school_id: str) -> list[Doc]:
        school = await self.schools.get(school_id)
        if school is None:
            raise NotFound("School not found.", code="school_not_found", title="学校不存在")
        if not covers(principal, school_id=school_id, district=school["district"], levels=ADMIN_LEVELS):
            raise Forbidden("Not an administrator of this school.", code="school_forbidden", title="无权查看")
        return await self.accounts.find({"scopes.school_id": school_id}, sort="username")

    # --- own profile, password, phone ---------------------------------------------------------------

    def _own_key(self, principal: Principal) -> str:
        kind, _, key = principal.subject.partition(":")
        if kind != "account":
            raise Forbidden("Only admin accounts have this profile.", code="forbidden", title="仅管理员账号可用")
        return key

    async def me(self, principal: Principal) -> Doc:
        account = await self.accounts.get(self._own_key(principal))
        if account is None:
            raise NotFound("Account not found.", code="account_not_found", title="账号不存在")
        return account

    async def update_profile(self, principal: Principal, changes: Doc) -> Doc:
        account = await self.me(principal)
        unknown = set(changes) - set(PROFILE_FIELDS)
        if unknown:
            raise InvalidInput(
                f"Not editable here: {', '.join(sorted(unknown))} (re-bind the mobile with an SMS code).",
                code="field_not_editable",
                title="绑定手机须通过短信验证更换",
            )
        try:
            if "name" in changes:
                changes["name"] = check_name(str(changes["name"]))
            for field in ("gender", "email"):
                if field in changes:
                    changes[field] = check_optional(field, changes[field])
        except InvalidField as exc:
            raise invalid_field(exc) from exc
        if "username" in changes:
            changes["username"] = str(changes["username"]).strip()
            if username_problem(changes["username"]):
                raise InvalidInput(
                    "Username not acceptable.",
                    code="invalid_username",
                    title="用户名须为3至32位字母、数字或._-，且以字母开头",
                )
        if not changes:
            return account
        after = {**account, **changes}
        events = []
        if any(after.get(field) != account.get(field) for field in ("name", "email")):
            # the contact book (notify) addresses admins by these
            changed = AdminChanged(subject=principal.subject, name=after["name"], email=after.get("email") or None)
            events.append(outbox_entry(changed, producer=PRODUCER, actor=actor_of(principal)))
        try:
            await self.accounts.update_where(
                {"_id": account["_id"]}, {"$set": {**changes, "updated_at": self.clock.now()}}, events
            )
        except AlreadyExists as exc:
            raise Conflict("Username is taken.", code="username_taken", title="用户名已被占用") from exc
        return await self.me(principal)

    async def rebind_phone(self, principal: Principal, mobile: str, step_up_claims: Doc) -> Doc:
        """Re-binding needs a step-up token proven on the new phone (purpose ``rebind_phone:<mobile>``)."""
        account = await self.me(principal)
        try:
            mobile = check_mobile(mobile)
        except InvalidField as exc:
            raise invalid_field(exc) from exc
        if step_up_claims.get("purpose") != f"rebind_phone:{mobile}":
            raise Forbidden(
                "The step-up code was sent to another phone.",
                code="step_up_required",
                title="验证码须发送到新绑定的手机",
            )
        if account.get("mobile") == mobile:
            raise Conflict("This phone is already bound.", code="phone_unchanged", title="该手机号已绑定")
        event = AdminPhoneRebound(subject=principal.subject, mobile=mobile)
        await self.accounts.update_where(
            {"_id": account["_id"]},
            {"$set": {"mobile": mobile, "mobile_bound_at": self.clock.now()}},
            [outbox_entry(event, producer=PRODUCER, actor=actor_of(principal))],
        )
        if self.token_versions is not None:
            await self.token_versions.bump(principal.subject)  # the old phone's sessions end
        return await self.me(principal)

    # --- lockout (已锁定用户) -----------------------------------------------------------------------

    async def locked_users(self, principal: Principal, school_id: str) -> list[Doc]:
        school = await self.schools.get(school_id)
        if school is None:
            raise NotFound("School not found.", code="school_not_found", title="学校不存在")
        ensure_school_admin_of(principal, school)
        teachers = await self.teachers.locked_in_school(school_id)
        admins = await self.accounts.locked_in_school(school_id)
        return [
            *(
                {"subject": f"teacher:{t['_id']}", "kind": "teacher", "login": t["_id"], "name": t["name"], **_lock(t)}
                for t in teachers
            ),
            *(
                {
                    "subject": f"account:{a['_id']}",
                    "kind": "admin",
                    "login": a["username"],
                    "name": a["name"],
                    **_lock(a),
                }
                for a in admins
            ),
        ]

    async def unlock(self, principal: Principal, subject: str) -> None:
        """取消锁定: a school admin of the user's school, or the city admin (any user)."""
        kind, _, key = subject.partition(":")
        repo: AccountRepository | TeacherRepository
        if kind == "teacher":
            repo = self.teachers
        elif kind == "account":
            repo = self.accounts
        else:
            raise NotFound("Unknown user.", code="account_not_found", title="账号不存在")
        doc = await repo.get(key)
        if doc is None:
            raise NotFound("Unknown user.", code="account_not_found", title="账号不存在")
        school_id = doc.get("school_id") if kind == "teacher" else (doc.get("scopes") or {}).get("school_id")
        allowed = principal.has_role(Role.CITY_ADMIN) or (
            school_id is not None and is_school_admin_of(principal, school_id)
        )
        if not allowed:
            raise Forbidden(
                "Only a school admin of the user's school or the city admin may unlock.",
                code="unlock_forbidden",
                title="仅该用户所在学校的管理员可解锁",
            )
        event = AccountUnlocked(
            subject=subject, name=doc["name"], mobile=doc.get("mobile"), unlocked_by=principal.subject
        )
        if not await repo.unlock(key, [outbox_entry(event, producer=PRODUCER, actor=actor_of(principal))]):
            raise Conflict("The account is not locked.", code="not_locked", title="该账号未被锁定")

    async def create_admin(self, new: NewAdmin, *, actor: Actor | None = None) -> dict[str, Any]:
        problem = password_problem(new.password)
        if problem:
            raise InvalidInput(
                f"The password is not acceptable: {problem}.",
                code="weak_password",
                title=PASSWORD_TITLES[problem],
                extra={"reason": problem},
            )
        account = {
            "_id": uuid.uuid4().hex[:12],
            "username": new.username,
            "name": new.name,
            "mobile": new.mobile,
            "email": new.email,
            "roles": list(new.roles),
            "scopes": dict(new.scopes),
            "credentials": {
                "password_hash": await self.hasher.hash_async(new.password),
                "must_change": new.temporary_password,
                "failed_attempts": 0,
                "locked": False,
            },
            "created_at": self.clock.now(),
        }
        event = AdminRegistered(
            subject=f"account:{account['_id']}",
            username=new.username,
            name=new.name,
            mobile=new.mobile,
            email=new.email,
            roles=list(new.roles),
            school_id=new.scopes.get("school_id"),
            district=new.scopes.get("district"),
        )
        try:
            await self.accounts.add(
                account, [outbox_entry(event, producer=PRODUCER, actor=actor or Actor(subject="system"))]
            )
        except AlreadyExists as exc:
            raise Conflict(
                f"Username {new.username!r} is taken.", code="username_taken", title="用户名已被占用"
            ) from exc
        return account


def _lock(doc: Doc) -> Doc:
    credentials = doc.get("credentials") or {}
    return {"failed_attempts": credentials.get("failed_attempts", 0), "mobile": doc.get("mobile")}
