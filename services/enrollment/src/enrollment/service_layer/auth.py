"""Login (DOMAIN §1): by account name, CE number, ID number or mobile, with lockout after 10
wrong passwords; a locked account gets 423 until a school admin unlocks it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from enrollment.adapters.passwords import PasswordHasher
from enrollment.adapters.repositories import AccountRepository, TeacherRepository, _Credentials
from enrollment.domain.accounts import LoginKind, locks_after, login_kinds
from jijiao_contracts import Actor
from jijiao_contracts.enums import Role
from jijiao_contracts.events.enrollment import PRODUCER, AccountLocked
from jijiao_kit.auth import TokenIssuer
from jijiao_kit.errors import Locked, Unauthorized
from jijiao_kit.outbox import outbox_entry

Doc = dict[str, Any]


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    must_change_password: bool


def teacher_claims(teacher: Doc) -> dict[str, Any]:
    return {
        "roles": [Role.TEACHER.value, *teacher.get("extra_roles", [])],
        "name": teacher["name"],
        "scopes": {
            "ce_number": teacher["_id"],
            "school_id": teacher["school_id"],
            "district": teacher["district"],
            "mobile": teacher.get("mobile"),
        },
    }


def account_claims(account: Doc) -> dict[str, Any]:
    return {"roles": list(account["roles"]), "name": account["name"], "scopes": dict(account.get("scopes", {}))}


class AuthService:
    def __init__(
        self,
        accounts: AccountRepository,
        teachers: TeacherRepository,
        hasher: PasswordHasher,
        issuer: TokenIssuer,
        *,
        max_failed_logins: int,
    ) -> None:
        self.accounts = accounts
        self.teachers = teachers
        self.hasher = hasher
        self.issuer = issuer
        self.max_failed_logins = max_failed_logins

    async def _find(self, login: str) -> tuple[_Credentials, Doc, str] | None:
        """The one account a login names: (repository, document, token subject)."""
        text = login.strip()
        for kind in login_kinds(text):
            if kind is LoginKind.USERNAME:
                account = await self.accounts.by_username(text)
                if account:
                    return self.accounts, account, f"account:{account['_id']}"
            elif kind is LoginKind.CE_NUMBER:
                teacher = await self.teachers.get(text)
                if teacher:
                    return self.teachers, teacher, f"teacher:{teacher['_id']}"
            elif kind is LoginKind.ID_NUMBER:
                teacher = await self.teachers.by_id_number(text.upper())
                if teacher:
                    return self.teachers, teacher, f"teacher:{teacher['_id']}"
            elif kind is LoginKind.MOBILE:
                # A mobile signs in only when it names exactly one person.
                matches: list[tuple[_Credentials, Doc]] = [
                    (self.teachers, doc) for doc in await self.teachers.by_mobile(text)
                ]
                matches += [(self.accounts, doc) for doc in await self.accounts.by_mobile(text)]
                if len(matches) == 1:
                    repo, doc = matches[0]
                    prefix = "teacher" if repo is self.teachers else "account"
                    return repo, doc, f"{prefix}:{doc['_id']}"
        return None

    async def login(self, login: str, password: str) -> IssuedToken:
        found = await self._find(login)
        if found is None:
            raise self._bad_credentials()
        repo, doc, subject = found
        credentials = doc["credentials"]
        if credentials.get("locked"):
            raise self._locked()
        if not await self.hasher.verify_async(credentials["password_hash"], password):
            failures = await repo.record_failed_login(doc["_id"])
            if locks_after(failures, self.max_failed_logins):
                event = AccountLocked(
                    subject=subject,
                    name=doc["name"],
                    mobile=doc.get("mobile"),
                    school_id=doc.get("school_id") or doc.get("scopes", {}).get("school_id"),
                    failed_attempts=failures,
                )
                await repo.lock(doc["_id"], [outbox_entry(event, producer=PRODUCER, actor=Actor(subject="system"))])
                raise self._locked()
            raise self._bad_credentials(remaining=self.max_failed_logins - failures)
        if credentials.get("failed_attempts"):
            await repo.reset_failed_logins(doc["_id"])
        claims = teacher_claims(doc) if repo is self.teachers else account_claims(doc)
        token = self.issuer.issue(subject, claims)
        return IssuedToken(token, self.issuer.ttl_seconds, bool(credentials.get("must_change")))

    @staticmethod
    def _bad_credentials(remaining: int | None = None) -> Unauthorized:
        return Unauthorized(
            "Unknown login or wrong password.",
            code="invalid_credentials",
            title="账号或密码错误",
            extra={"remaining_attempts": remaining} if remaining is not None else None,
        )

    @staticmethod
    def _locked() -> Locked:
        return Locked(
            "The account is locked after too many wrong passwords; a school admin can unlock it.",
            code="account_locked",
            title="账号已锁定，请联系学校继续教育管理员解锁",
        )
