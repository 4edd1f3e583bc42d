"""Administrator accounts: real-name, phone-bound, one per person (§1)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from enrollment.adapters.passwords import PasswordHasher
from enrollment.adapters.repositories import AccountRepository, AlreadyExists
from jijiao_contracts import Actor
from jijiao_contracts.events.enrollment import PRODUCER, AdminRegistered
from jijiao_kit.clock import Clock
from jijiao_kit.errors import Conflict
from jijiao_kit.outbox import outbox_entry


@dataclass(frozen=True)
class NewAdmin:
    username: str
    name: str
    mobile: str
    password: str
    roles: list[str]
    scopes: dict[str, Any] = field(default_factory=dict)
    email: str | None = None


class AccountService:
    def __init__(self, accounts: AccountRepository, hasher: PasswordHasher, clock: Clock) -> None:
        self.accounts = accounts
        self.hasher = hasher
        self.clock = clock

    async def create_admin(self, new: NewAdmin) -> dict[str, Any]:
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
                "must_change": False,
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
            await self.accounts.add(account, [outbox_entry(event, producer=PRODUCER, actor=Actor(subject="system"))])
        except AlreadyExists as exc:
            raise Conflict(
                f"Username {new.username!r} is taken.", code="username_taken", title="用户名已被占用"
            ) from exc
        return account
