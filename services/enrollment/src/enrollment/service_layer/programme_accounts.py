"""Logins for the research-base programme (baseline service, DOMAIN §10, issue 15 item 7).

Enrollment is the one place that signs tokens, so it keeps these accounts too: baseline announces a
zone contact (``ZoneContactAppointed``) and the confirmed trainees of a batch (``TraineesConfirmed``);
this handler opens an account for each, with role ``zone_contact`` (scope ``zone_id``) or ``trainee``
(scopes ``trainee_id``, ``batch_id``, ``zone_id``).

The initial secret is random, lives only in this function's memory: the account keeps its hash, and
the ``CredentialsIssued`` event carries it sealed for notify's public key (``jijiao_kit.sealing``), so
only notify can open it to send the SMS. It must be changed at the first sign-in (``must_change``:
the password gate and every other service refuse such a token for anything else) and a periodic job
makes it unusable after ``INITIAL_SECRET_DAYS`` if it is still unchanged."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from enrollment.adapters.passwords import PasswordHasher
from enrollment.adapters.programme_accounts_repository import ProgrammeAccountRepository
from jijiao_contracts import Actor, Envelope
from jijiao_contracts.enums import Role
from jijiao_contracts.events import baseline as bl
from jijiao_contracts.events.enrollment import PRODUCER, CredentialsIssued
from jijiao_kit.clock import Clock
from jijiao_kit.outbox import outbox_entry
from jijiao_kit.sealing import seal
from jijiao_kit.timeutil import epoch_ms

logger = logging.getLogger(__name__)
INITIAL_SECRET_DAYS = 7
#: Letters and digits that cannot be mistaken for each other on a phone screen.
ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SECRET_LENGTH = 10
SYSTEM = Actor(subject="system:enrollment.programme_accounts", role="system")


def new_initial_secret() -> str:
    """Random, with letters and digits (so the same rules as a chosen password hold)."""
    while True:
        secret = "".join(secrets.choice(ALPHABET) for _ in range(SECRET_LENGTH))
        if any(ch.isdigit() for ch in secret) and any(ch.isalpha() for ch in secret):
            return secret


class ProgrammeAccounts:
    """A batch handler of enrollment's worker (``jijiao_kit.batching.BatchHandler``)."""

    def __init__(
        self, accounts: ProgrammeAccountRepository, hasher: PasswordHasher, clock: Clock, notify_public_key: bytes
    ) -> None:
        self.accounts = accounts
        self.hasher = hasher
        self.clock = clock
        self.notify_public_key = notify_public_key

    @property
    def routing_keys(self) -> list[str]:
        return sorted(
            {
                bl.ZoneContactAppointed.routing_key(),
                bl.TraineesConfirmed.routing_key(),
                bl.TraineeWithdrawn.routing_key(),
            }
        )

    async def handle_batch(self, envelopes: Sequence[Envelope]) -> None:
        for envelope in envelopes:
            if envelope.routing_key == bl.ZoneContactAppointed.routing_key():
                zone = envelope.payload_as(bl.ZoneContactAppointed)
                await self.open(
                    f"zc-{zone.zone_id}",
                    name=zone.contact_name,
                    mobile=zone.contact_mobile,
                    email=zone.contact_email,
                    role=Role.ZONE_CONTACT,
                    scopes={"zone_id": zone.zone_id},
                )
            elif envelope.routing_key == bl.TraineeWithdrawn.routing_key():
                withdrawn = envelope.payload_as(bl.TraineeWithdrawn)
                await self.accounts.close(f"tr-{withdrawn.trainee_id}", epoch_ms(self.clock.now()))
            elif envelope.routing_key == bl.TraineesConfirmed.routing_key():
                batch = envelope.payload_as(bl.TraineesConfirmed)
                for trainee in batch.trainees:
                    await self.open(
                        f"tr-{trainee.trainee_id}",
                        name=trainee.name,
                        mobile=trainee.mobile,
                        email=trainee.email,
                        role=Role.TRAINEE,
                        scopes={"trainee_id": trainee.trainee_id, "batch_id": batch.batch_id, "zone_id": batch.zone_id},
                        report_deadline=datetime.fromisoformat(batch.report_deadline),
                    )

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
    ) -> bool:
        """Open the account once (its id is its login: a redelivered event finds it and does nothing).
        An existing zone login whose mobile differs moves to the new contact with a new secret."""
        current = await self.accounts.mobile_of(login)
        if current is not None and (current == mobile or role is not Role.ZONE_CONTACT):
            return False
        now = self.clock.now()
        valid_until = now + timedelta(days=INITIAL_SECRET_DAYS)
        secret = new_initial_secret()
        password_hash = await self.hasher.hash_async(secret)
        sealed = seal(self.notify_public_key, secret)
        del secret
        account = {
            "_id": login,
            "username": login,
            "name": name,
            "mobile": mobile,
            "email": email,
            "roles": [role.value],
            "scopes": scopes,
            "programme": True,
            "credentials": {
                "password_hash": password_hash,
                "must_change": True,
                "failed_attempts": 0,
                "locked": False,
                "initial_valid_until_ms": epoch_ms(valid_until),
                "initial_expired_ms": None,
            },
            "created_at": now,
        }
        event = CredentialsIssued(
            subject=f"account:{login}",
            login=login,
            name=name,
            mobile=mobile,
            role=role.value,
            sealed_password=sealed,
            valid_until=valid_until,
            report_deadline=report_deadline,
        )
        entries = [outbox_entry(event, producer=PRODUCER, actor=SYSTEM)]
        if current is not None:  # a new contact of the zone: the login is handed over
            fields = {
                "name": name,
                "mobile": mobile,
                "email": email,
                "credentials": account["credentials"],
                "handed_over_ms": epoch_ms(now),
            }
            return await self.accounts.hand_over(login, current, fields, entries)
        opened = await self.accounts.open(account, entries)
        if opened:
            logger.info("programme account %s opened (role %s)", login, role.value)
        return opened

    async def expire_initial_secrets(self) -> int:
        """The periodic job: initial secrets unchanged after their days stop working."""
        now = self.clock.now()
        expired = 0
        for doc in await self.accounts.initial_secrets_past(epoch_ms(now)):
            unusable = await self.hasher.hash_async(secrets.token_urlsafe(32))  # never kept, never known
            expired += await self.accounts.expire_initial_secret(doc["_id"], unusable, epoch_ms(now))
        return expired


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


def programme_accounts_for(db: Any, hasher: PasswordHasher, clock: Clock, keys_dir: Any) -> ProgrammeAccounts:
    """Built by the worker's composition (one line there)."""
    from jijiao_kit.sealing import NOTIFY_CREDENTIALS_KEY, load_public_sealing_key

    return ProgrammeAccounts(
        ProgrammeAccountRepository(db), hasher, clock, load_public_sealing_key(keys_dir, NOTIFY_CREDENTIALS_KEY)
    )
