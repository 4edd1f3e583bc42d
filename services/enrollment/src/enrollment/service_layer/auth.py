"""Login (DOMAIN §1): by account name, CE number, ID number or mobile, with lockout after 10
wrong passwords; a locked account gets 423 until a school admin unlocks it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from enrollment.adapters.captcha import CaptchaStore, IssuedCaptcha
from enrollment.adapters.passwords import PasswordHasher
from enrollment.adapters.repositories import AccountRepository, SchoolRepository, TeacherRepository, _Credentials
from enrollment.domain.accounts import PASSWORD_TITLES, LoginKind, locks_after, login_kinds, password_problem
from enrollment.domain.identity import initial_password
from enrollment.domain.roster import is_principal
from enrollment.service_layer.access import is_school_admin_of
from jijiao_contracts import Actor
from jijiao_contracts.enums import Role
from jijiao_contracts.events.enrollment import PRODUCER, AccountLocked
from jijiao_kit.auth import TOKEN_VERSION, Principal, TokenIssuer, TokenVersions
from jijiao_kit.clock import Clock, SystemClock
from jijiao_kit.errors import BadRequest, InvalidInput, Locked, NotFound, Unauthorized
from jijiao_kit.outbox import outbox_entry
from jijiao_kit.ratelimit import RateLimits
from jijiao_kit.timeutil import epoch_ms

Doc = dict[str, Any]


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    must_change_password: bool


def teacher_claims(teacher: Doc, school: Doc | None = None) -> dict[str, Any]:
    """A teacher's token; the school's one authorised principal also gets role "principal" with the
    school scope it already carries (授权校长: the same account uses the school admin platform)."""
    extra = [Role.PRINCIPAL.value] if is_principal(teacher, school) else []
    return {
        "roles": [Role.TEACHER.value, *extra, *teacher.get("extra_roles", [])],
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
        schools: SchoolRepository | None = None,
        captchas: CaptchaStore | None = None,
        captcha_after_failures: int = 3,
        token_versions: TokenVersions | None = None,
        rate_limits: RateLimits | None = None,
        login_rate_per_client: str = "120/minute",
        login_rate_per_login: str = "20/minute",
        clock: Clock | None = None,
    ) -> None:
        self.accounts = accounts
        self.teachers = teachers
        self.schools = schools
        self.hasher = hasher
        self.issuer = issuer
        self.max_failed_logins = max_failed_logins
        self.captchas = captchas
        self.captcha_after_failures = captcha_after_failures
        self.token_versions = token_versions
        self.rate_limits = rate_limits
        self.login_rate_per_client = login_rate_per_client
        self.login_rate_per_login = login_rate_per_login
        self.clock = clock or SystemClock()
        # Unknown logins are checked against this hash, so they cost what a wrong password costs.
        self._dummy_hash = hasher.hash("unknown-login-dummy-password")

    async def revoke_tokens(self, subject: str) -> None:
        """Every earlier token of ``subject`` is refused by every service within seconds."""
        if self.token_versions is not None:
            await self.token_versions.bump(subject)

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

    async def new_captcha(self) -> IssuedCaptcha:
        if self.captchas is None:
            raise NotFound("Image codes are off here.", code="captcha_disabled", title="未启用图形验证码")
        return await self.captchas.issue(datetime.now(UTC))

    def _needs_captcha(self, failures: int) -> bool:
        return self.captchas is not None and failures >= self.captcha_after_failures

    async def login(
        self, login: str, password: str, captcha: tuple[str, str] | None = None, *, client: str | None = None
    ) -> IssuedToken:
        """``captcha``: (id, answer) of an image code, needed once the account has
        ``captcha_after_failures`` wrong passwords in a row (a wrong code is not a wrong password).

        Per-client and per-login rate limits (429, Retry-After) come first. An unknown login and a
        wrong password answer alike (same 401, a hash check either way). A wrong password that passed
        no image code counts only up to the image-code threshold (atomically, in the store), so
        parallel tries without a code can never lock an account; only tries that passed one reach the lock."""
        if self.rate_limits is not None:
            if client:
                await self.rate_limits.hit(self.login_rate_per_client, client, what="login_client")
            await self.rate_limits.hit(self.login_rate_per_login, login.strip().lower(), what="login")
        found = await self._find(login)
        if found is None:
            # An unknown login behaves as an account would: a hash check, and an image code after as
            # many wrong tries (counted per login text), so no answer tells whether an account exists.
            key = login.strip().lower()
            if self.captchas is not None:
                await self._check_captcha(await self.captchas.unknown_login_failures(key), captcha)
            await self.hasher.verify_async(self._dummy_hash, password)
            if self.captchas is not None:
                await self.captchas.record_unknown_login_failure(key)
            raise self._bad_credentials()
        repo, doc, subject = found
        credentials = doc["credentials"]
        if credentials.get("locked"):
            raise self._locked()
        captcha_passed = await self._check_captcha(int(credentials.get("failed_attempts") or 0), captcha)
        if not await self.hasher.verify_async(credentials["password_hash"], password):
            raise await self._wrong_password(repo, doc, subject, captcha_passed=captcha_passed)
        if credentials.get("failed_attempts"):
            await repo.reset_failed_logins(doc["_id"])
        must_change = bool(credentials.get("must_change"))
        if must_change and self._initial_secret_expired(credentials):
            raise self._initial_password_expired()
        if repo is self.teachers:
            school = await self.schools.get(doc["school_id"]) if self.schools else None
            claims = teacher_claims(doc, school)
        else:
            claims = account_claims(doc)
        claims["must_change_password"] = must_change
        if self.token_versions is not None:
            claims[TOKEN_VERSION] = await self.token_versions.current(subject)
        token = self.issuer.issue(subject, claims)
        return IssuedToken(token, self.issuer.ttl_seconds, must_change)

    async def _check_captcha(self, failures: int, captcha: tuple[str, str] | None) -> bool:
        """Whether an image code was required and passed; raises 400 when required and missing or wrong."""
        if not self._needs_captcha(failures):
            return False
        if captcha is None:
            raise BadRequest(
                "An image code is required after several wrong passwords.",
                code="captcha_required",
                title="请输入图形验证码",
            )
        if self.captchas is not None and not await self.captchas.check(*captcha):
            raise BadRequest("Wrong or expired image code.", code="captcha_invalid", title="图形验证码错误或已过期")
        return True

    async def _wrong_password(
        self, repo: _Credentials, doc: Doc, subject: str, *, captcha_passed: bool = True
    ) -> Unauthorized | Locked:
        """Count a wrong password; the 10th in a row locks the account (one AccountLocked event) and
        revokes its tokens. Without a passed image code (while one is in use) the count stops at the
        image-code threshold."""
        uncounted = self.captchas is not None and not captcha_passed
        failures = await repo.record_failed_login(doc["_id"], below=self.captcha_after_failures if uncounted else None)
        if failures is not None and locks_after(failures, self.max_failed_logins):
            event = AccountLocked(
                subject=subject,
                name=doc["name"],
                mobile=doc.get("mobile"),
                school_id=doc.get("school_id") or doc.get("scopes", {}).get("school_id"),
                failed_attempts=failures,
            )
            await repo.lock(doc["_id"], [outbox_entry(event, producer=PRODUCER, actor=Actor(subject="system"))])
            await self.revoke_tokens(subject)
            return self._locked()
        return self._bad_credentials()

    def _by_subject(self, subject: str) -> tuple[_Credentials, str]:
        kind, _, key = subject.partition(":")
        if kind == "teacher":
            return self.teachers, key
        if kind == "account":
            return self.accounts, key
        raise NotFound("This token has no password of its own.", code="account_not_found", title="账号不存在")

    async def must_change_password(self, subject: str) -> bool:
        """Whether the account a token names still has to replace its initial (or reset) password.
        A token issued with the ``must_change_password`` claim stops blocking once it has."""
        try:
            repo, key = self._by_subject(subject)
        except NotFound:
            return False
        doc = await repo.get(key)
        return doc is not None and bool((doc.get("credentials") or {}).get("must_change"))

    async def change_password(self, principal: Principal, old_password: str, new_password: str) -> None:
        """Everyone changes their own password with the old one; teachers must replace the initial one.

        A wrong old password counts as a failed login (so it cannot be guessed past the lockout)."""
        repo, key = self._by_subject(principal.subject)
        doc = await repo.get(key)
        if doc is None:
            raise NotFound("Account not found.", code="account_not_found", title="账号不存在")
        credentials = doc["credentials"]
        if credentials.get("locked"):
            raise self._locked()
        if not await self.hasher.verify_async(credentials["password_hash"], old_password):
            raise await self._wrong_password(repo, doc, principal.subject)
        if credentials.get("must_change") and self._initial_secret_expired(credentials):
            raise self._initial_password_expired()  # an older token cannot keep an expired secret alive
        initial = initial_password(doc["id_number"]) if repo is self.teachers else None
        problem = password_problem(new_password, old=old_password, initial=initial)
        if problem:
            raise InvalidInput(
                f"The new password is not acceptable: {problem}.",
                code="weak_password",
                title=PASSWORD_TITLES[problem],
                extra={"reason": problem},
            )
        new_hash = await self.hasher.hash_async(new_password)
        changed = await repo.update_where(
            {"_id": key, "credentials.password_hash": credentials["password_hash"]},
            {
                "$set": {
                    "credentials.password_hash": new_hash,
                    "credentials.must_change": False,
                    "credentials.failed_attempts": 0,
                }
            },
        )
        if not changed:
            raise Unauthorized(
                "The password was changed meanwhile.", code="invalid_credentials", title="密码已被修改，请重新登录"
            )
        await self.revoke_tokens(principal.subject)

    @staticmethod
    def _bad_credentials() -> Unauthorized:
        """The same answer for an unknown login and a wrong password: nothing tells an account exists
        (no remaining attempts; the next try of a login that needs an image code says so with 400)."""
        return Unauthorized("Unknown login or wrong password.", code="invalid_credentials", title="账号或密码错误")

    def _initial_secret_expired(self, credentials: Doc) -> bool:
        """A programme login's initial secret works for its days only (``initial_valid_until_ms``),
        whether or not the job that retires it has run yet."""
        valid_until = credentials.get("initial_valid_until_ms")
        return valid_until is not None and epoch_ms(self.clock.now()) > int(valid_until)

    @staticmethod
    def _initial_password_expired() -> Unauthorized:
        return Unauthorized(
            "The initial password has expired; the centre (or the zone contact) can have it sent again.",
            code="initial_password_expired",
            title="初始密码已过期，请联系实验区联系人或中心重新发送",
        )

    @staticmethod
    def _locked() -> Locked:
        return Locked(
            "The account is locked after too many wrong passwords; a school admin can unlock it.",
            code="account_locked",
            title="账号已锁定，请联系学校继续教育管理员解锁",
        )

    async def reset_teacher_password(self, principal: Principal, ce_number: str) -> None:
        """重新设置密码: a school admin of the teacher's school (or the city) resets a forgotten password to
        the initial one (last six ID characters); the teacher must change it at the next login."""
        teacher = await self.teachers.get(ce_number)
        if teacher is None or not is_school_admin_of(principal, teacher["school_id"]):
            raise NotFound(f"Teacher {ce_number} not found.", code="teacher_not_found", title="教师不存在")
        password_hash = await self.hasher.hash_async(initial_password(teacher["id_number"]))
        await self.teachers.update_where(
            {"_id": ce_number},
            {
                "$set": {
                    "credentials.password_hash": password_hash,
                    "credentials.must_change": True,
                    "credentials.failed_attempts": 0,
                }
            },
        )
        await self.revoke_tokens(f"teacher:{ce_number}")
