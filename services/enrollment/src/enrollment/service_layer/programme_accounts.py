"""Logins for the research-base programme (baseline service, DOMAIN §10, issue 15 item 7).

Enrollment is the one place that signs tokens, so it keeps these accounts too: baseline announces a
zone contact (``ZoneContactAppointed``) and the confirmed trainees of a batch (``TraineesConfirmed``);
this handler opens an account for each, with role ``zone_contact`` (scope ``zone_id``) or ``trainee``
(scopes ``trainee_id``, ``batch_id``, ``zone_id``).

The initial secret is random, lives only in this function's memory: the account keeps its hash, and
the ``CredentialsIssued`` event carries it sealed for notify's public key (``jijiao_kit.sealing``), so
only notify can open it to send the SMS. It must be changed at the first sign-in (``must_change``:
the password gate and every other service refuse such a token for anything else) and a periodic job
makes it unusable after ``INITIAL_SECRET_DAYS`` if it is still unchanged (sign-in refuses it after
then as well, whether or not the job has run: ``AuthService.login``).

A login moves with its person: a zone's new contact (``ZoneContactAppointed`` with another mobile) or
a trainee's new mobile (``TraineeChanged``) gets a new initial secret by SMS, and the old secret and
every earlier token stop working; a withdrawn trainee's login closes (``TraineeWithdrawn``), also
revoking its tokens. While a login still has its initial secret, the centre (or, for a trainee, the
zone's contact) may have it sent again (``reissue_*``: an expired or lost SMS), at most
``REISSUE_RATE`` per account."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from enrollment.adapters.passwords import PasswordHasher
from enrollment.adapters.programme_accounts_repository import ProgrammeAccountRepository
from jijiao_contracts import Actor, Envelope
from jijiao_contracts.enums import Role
from jijiao_contracts.events import baseline as bl
from jijiao_contracts.events.enrollment import PRODUCER, CredentialsIssued
from jijiao_kit.auth import Principal, TokenVersions
from jijiao_kit.clock import Clock
from jijiao_kit.errors import NotFound
from jijiao_kit.outbox import outbox_entry
from jijiao_kit.ratelimit import RateLimits
from jijiao_kit.sealing import seal
from jijiao_kit.timeutil import epoch_ms

logger = logging.getLogger(__name__)
Doc = dict[str, Any]
INITIAL_SECRET_DAYS = 7
#: Letters and digits that cannot be mistaken for each other on a phone screen.
ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SECRET_LENGTH = 10
SYSTEM = Actor(subject="system:enrollment.programme_accounts", role="system")
#: How often one account's initial secret may be sent again (kit rate limiter, per account).
REISSUE_RATE = "3/hour"


def new_initial_secret() -> str:
    """Random, with letters and digits (so the same rules as a chosen password hold)."""
    while True:
        secret = "".join(secrets.choice(ALPHABET) for _ in range(SECRET_LENGTH))
        if any(ch.isdigit() for ch in secret) and any(ch.isalpha() for ch in secret):
            return secret


def subject_of(login: str) -> str:
    return f"account:{login}"


def trainee_login(trainee_id: str) -> str:
    return f"tr-{trainee_id}"


def zone_login(zone_id: str) -> str:
    return f"zc-{zone_id}"


def account_not_found() -> NotFound:
    return NotFound("No such login.", code="account_not_found", title="账号不存在")


class ProgrammeAccounts:
    """A batch handler of enrollment's worker (``jijiao_kit.batching.BatchHandler``), and the use
    cases of the credentials endpoints."""

    def __init__(
        self,
        accounts: ProgrammeAccountRepository,
        hasher: PasswordHasher,
        clock: Clock,
        notify_public_key: bytes,
        *,
        token_versions: TokenVersions | None = None,
        rate_limits: RateLimits | None = None,
        reissue_rate: str = REISSUE_RATE,
    ) -> None:
        self.accounts = accounts
        self.hasher = hasher
        self.clock = clock
        self.notify_public_key = notify_public_key
        self.token_versions = token_versions
        self.rate_limits = rate_limits
        self.reissue_rate = reissue_rate

    @property
    def routing_keys(self) -> list[str]:
        return sorted(
            {
                bl.ZoneContactAppointed.routing_key(),
                bl.TraineesConfirmed.routing_key(),
                bl.TraineeWithdrawn.routing_key(),
                bl.TraineeChanged.routing_key(),
            }
        )

    async def handle_batch(self, envelopes: Sequence[Envelope]) -> None:
        for envelope in envelopes:
            if envelope.routing_key == bl.ZoneContactAppointed.routing_key():
                zone = envelope.payload_as(bl.ZoneContactAppointed)
                await self.open(
                    zone_login(zone.zone_id),
                    name=zone.contact_name,
                    mobile=zone.contact_mobile,
                    email=zone.contact_email,
                    role=Role.ZONE_CONTACT,
                    scopes={"zone_id": zone.zone_id},
                )
            elif envelope.routing_key == bl.TraineeWithdrawn.routing_key():
                withdrawn = envelope.payload_as(bl.TraineeWithdrawn)
                await self.close(trainee_login(withdrawn.trainee_id))
            elif envelope.routing_key == bl.TraineeChanged.routing_key():
                await self.change_trainee(envelope.payload_as(bl.TraineeChanged))
            elif envelope.routing_key == bl.TraineesConfirmed.routing_key():
                batch = envelope.payload_as(bl.TraineesConfirmed)
                for trainee in batch.trainees:
                    await self.open(
                        trainee_login(trainee.trainee_id),
                        name=trainee.name,
                        mobile=trainee.mobile,
                        email=trainee.email,
                        role=Role.TRAINEE,
                        scopes={"trainee_id": trainee.trainee_id, "batch_id": batch.batch_id, "zone_id": batch.zone_id},
                        report_deadline=datetime.fromisoformat(batch.report_deadline),
                    )

    async def revoke(self, login: str) -> None:
        """Every token issued so far for ``login`` is refused by every service within seconds."""
        if self.token_versions is not None:
            await self.token_versions.bump(subject_of(login))

    async def _initial_secret(
        self, login: str, *, name: str, mobile: str, role: str, report_deadline: datetime | None
    ) -> tuple[Doc, Doc]:
        """New credentials with a random initial secret (only its hash kept) and the event that
        carries the secret sealed for notify; the secret itself leaves this function nowhere else."""
        valid_until = self.clock.now() + timedelta(days=INITIAL_SECRET_DAYS)
        secret = new_initial_secret()
        password_hash = await self.hasher.hash_async(secret)
        sealed = seal(self.notify_public_key, secret)
        del secret
        credentials = {
            "password_hash": password_hash,
            "must_change": True,
            "failed_attempts": 0,
            "locked": False,
            "initial_valid_until_ms": epoch_ms(valid_until),
            "initial_expired_ms": None,
        }
        event = CredentialsIssued(
            subject=subject_of(login),
            login=login,
            name=name,
            mobile=mobile,
            role=role,
            sealed_password=sealed,
            valid_until=valid_until,
            report_deadline=report_deadline,
        )
        return credentials, outbox_entry(event, producer=PRODUCER, actor=SYSTEM)

    async def open(
        self,
        login: str,
        *,
        name: str,
        mobile: str,
        email: str | None,
        role: Role,
        scopes: dict[str, Any],
        report_deadline: datetime | None = None,
        trainee_version: int = 0,
    ) -> bool:
        """Open the account once (its id is its login: a redelivered event finds it and does nothing).
        An existing zone login whose mobile differs moves to the new contact with a new secret."""
        current = await self.accounts.mobile_of(login)
        if current is not None and (current == mobile or role is not Role.ZONE_CONTACT):
            return False
        now = self.clock.now()
        credentials, entry = await self._initial_secret(
            login, name=name, mobile=mobile, role=role.value, report_deadline=report_deadline
        )
        if current is not None:  # a new contact of the zone: the login is handed over
            fields = {
                "name": name,
                "mobile": mobile,
                "email": email,
                "credentials": credentials,
                "handed_over_ms": epoch_ms(now),
            }
            return await self._hand_over(login, {"mobile": current}, fields, [entry])
        account: Doc = {
            "_id": login,
            "username": login,
            "name": name,
            "mobile": mobile,
            "email": email,
            "roles": [role.value],
            "scopes": scopes,
            "programme": True,
            "credentials": credentials,
            "created_at": now,
        }
        if role is Role.TRAINEE:
            account["trainee_version"] = trainee_version
        if report_deadline is not None:  # for the SMS of a secret sent again
            account["report_deadline_ms"] = epoch_ms(report_deadline)
        opened = await self.accounts.open(account, [entry])
        if opened:
            logger.info("programme account %s opened (role %s)", login, role.value)
        return opened

    async def _hand_over(self, login: str, expected: Doc, fields: Doc, entries: list[Doc]) -> bool:
        """Move the login (new secret) and revoke its tokens: before the write, so no token of the
        old secret outlives it, and after it, so none issued in between does either."""
        await self.revoke(login)
        moved = await self.accounts.hand_over(login, expected, fields, entries)
        if moved:
            await self.revoke(login)
            logger.info("programme account %s handed over", login)
        return moved

    async def change_trainee(self, changed: bl.TraineeChanged) -> bool:
        """The centre changed a confirmed trainee: the login takes the new details once, and only
        when they are newer than the last it took (``version``). A new mobile gets a new initial
        secret (the old one stops working, earlier tokens are revoked); a corrected name or email
        keeps the secret. A change that arrives before the confirmation opens the login itself."""
        login = trainee_login(changed.trainee_id)
        for _ in range(2):  # a second round when the confirmation opened the login meanwhile
            doc = await self.accounts.get(login)
            if doc is None:
                scopes = {"trainee_id": changed.trainee_id, "batch_id": changed.batch_id, "zone_id": changed.zone_id}
                if await self.open(
                    login,
                    name=changed.name,
                    mobile=changed.mobile,
                    email=changed.email,
                    role=Role.TRAINEE,
                    scopes=scopes,
                    report_deadline=datetime.fromisoformat(changed.report_deadline),
                    trainee_version=changed.version,
                ):
                    return True
                continue
            stored_version = doc.get("trainee_version")
            if doc.get("closed_ms") or int(stored_version or 0) >= changed.version:
                return False  # a closed login, or this change (or a later one) is applied
            expected = {"trainee_version": stored_version}  # None also matches a login without one
            report_deadline = datetime.fromisoformat(changed.report_deadline)
            fields: Doc = {
                "name": changed.name,
                "email": changed.email,
                "trainee_version": changed.version,
                "report_deadline_ms": epoch_ms(report_deadline),
            }
            if doc.get("mobile") == changed.mobile:
                return await self.accounts.hand_over(login, expected, fields, [])
            credentials, entry = await self._initial_secret(
                login,
                name=changed.name,
                mobile=changed.mobile,
                role=Role.TRAINEE.value,
                report_deadline=report_deadline,
            )
            fields.update(mobile=changed.mobile, credentials=credentials, handed_over_ms=epoch_ms(self.clock.now()))
            return await self._hand_over(login, expected, fields, [entry])
        return False

    async def close(self, login: str) -> bool:
        """A withdrawn trainee's login stops working, and so do its tokens."""
        await self.revoke(login)
        closed = await self.accounts.close(login, epoch_ms(self.clock.now()))
        if closed:
            await self.revoke(login)
        return closed

    # The credentials endpoints: an initial secret sent again (expired, or the SMS was lost).
    async def reissue_trainee(self, principal: Principal, batch_id: str, zone_id: str, trainee_id: str) -> None:
        """The centre or the trainee's zone contact has the trainee's initial secret sent again."""
        if not (is_centre(principal) or is_zone_contact_of(principal, zone_id)):
            raise account_not_found()
        login = trainee_login(trainee_id)
        doc = await self.accounts.get(login)
        scopes = (doc or {}).get("scopes") or {}
        if doc is None or scopes.get("batch_id") != batch_id or scopes.get("zone_id") != zone_id:
            raise account_not_found()
        await self._reissue(doc, Role.TRAINEE)

    async def reissue_zone_contact(self, principal: Principal, zone_id: str) -> None:
        """The centre has a zone contact's initial secret sent again."""
        if not is_centre(principal):
            raise account_not_found()
        doc = await self.accounts.get(zone_login(zone_id))
        if doc is None:
            raise account_not_found()
        await self._reissue(doc, Role.ZONE_CONTACT)

    async def _reissue(self, doc: Doc, role: Role) -> None:
        login = str(doc["_id"])
        if doc.get("closed_ms"):
            raise account_not_found()
        # Also a reset: a person who set a password and forgot it gets a new initial secret (on their own
        # phone only, so whoever asks for it never learns it), and their own password stops working.
        if self.rate_limits is not None:
            await self.rate_limits.hit(self.reissue_rate, login, what="programme_credentials")
        report_deadline = None
        if role is Role.TRAINEE and doc.get("report_deadline_ms"):
            report_deadline = datetime.fromtimestamp(int(doc["report_deadline_ms"]) / 1000, UTC)
        credentials, entry = await self._initial_secret(
            login, name=doc["name"], mobile=doc["mobile"], role=role.value, report_deadline=report_deadline
        )
        await self.revoke(login)
        if not await self.accounts.reissue(login, credentials, [entry]):
            raise account_not_found()  # the login was closed meanwhile
        await self.revoke(login)
        logger.info("programme account %s: initial secret issued again", login)

    async def expire_initial_secrets(self) -> int:
        """The periodic job: initial secrets unchanged after their days stop working."""
        now = self.clock.now()
        expired = 0
        for doc in await self.accounts.initial_secrets_past(epoch_ms(now)):
            unusable = await self.hasher.hash_async(secrets.token_urlsafe(32))  # never kept, never known
            expired += await self.accounts.expire_initial_secret(doc["_id"], unusable, epoch_ms(now))
        return expired


def is_centre(principal: Principal) -> bool:
    return principal.has_role(Role.BASE_ADMIN)


def is_zone_contact_of(principal: Principal, zone_id: str) -> bool:
    return principal.has_role(Role.ZONE_CONTACT) and principal.scopes.get("zone_id") == zone_id


class CombinedBatches:
    """One batch handler for the worker's one queue: each envelope goes to the handler of its key."""

    def __init__(self, *handlers: Any) -> None:
        self.handlers = handlers
        self._by_key = {key: handler for handler in handlers for key in handler.routing_keys}

    @property
    def routing_keys(self) -> list[str]:
        return sorted(self._by_key)

    async def handle_batch(self, envelopes: Sequence[Envelope]) -> None:
        for handler in self.handlers:
            mine = [e for e in envelopes if self._by_key.get(e.routing_key) is handler]
            if mine:
                await handler.handle_batch(mine)


#: How often the worker retires initial secrets that were not changed in time.
EXPIRY_JOB_INTERVAL_SECONDS = 600.0
