"""Accounts of the research-base programme (zone contacts, trainees) in enrollment's ``accounts``
collection, so the one login path signs them in like any account."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from enrollment.adapters.mongo import ACCOUNTS
from jijiao_kit.outbox import outbox_update, with_outbox

Doc = dict[str, Any]


class ProgrammeAccountRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[ACCOUNTS]

    async def exists(self, account_id: str) -> bool:
        return await self.collection.find_one({"_id": account_id}, {"_id": 1}) is not None

    async def mobile_of(self, account_id: str) -> str | None:
        """The account's mobile ("" for none), or None when there is no such account."""
        doc = await self.collection.find_one({"_id": account_id}, {"mobile": 1})
        return None if doc is None else str(doc.get("mobile") or "")

    async def get(self, account_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": account_id, "programme": True}, {"outbox": 0})

    async def hand_over(self, account_id: str, expected: Doc, fields: Doc, events: Sequence[Doc]) -> bool:
        """The login moves to a new person or new details (a zone's new contact, a trainee's new
        mobile): conditional on what was read (``expected``: the mobile, the trainee's version), so a
        concurrent redelivery hands over once; a closed login is never reopened."""
        result = await self.collection.update_one(
            {"_id": account_id, "closed_ms": None, **expected}, outbox_update({"$set": fields}, events)
        )
        return result.modified_count == 1

    async def reissue(self, account_id: str, credentials: Doc, events: Sequence[Doc]) -> bool:
        """A new initial secret (must be changed at the next sign-in) for a login that is not closed."""
        result = await self.collection.update_one(
            {"_id": account_id, "programme": True, "closed_ms": None},
            outbox_update({"$set": {"credentials": credentials}}, events),
        )
        return result.modified_count == 1

    async def open(self, account: Doc, events: Sequence[Doc]) -> bool:
        """Insert the account with its events; False when it exists (a redelivered event)."""
        try:
            await self.collection.insert_one(with_outbox(account, events))
        except DuplicateKeyError:
            return False
        return True

    async def initial_secrets_past(self, now_ms: int, limit: int = 500) -> list[Doc]:
        query = {
            "programme": True,
            "credentials.must_change": True,
            "credentials.initial_valid_until_ms": {"$lt": now_ms},
            "credentials.initial_expired_ms": None,
        }
        return [doc async for doc in self.collection.find(query, {"credentials": 1}).limit(limit)]

    async def expire_initial_secret(self, account_id: str, unusable_hash: str, now_ms: int) -> bool:
        """Replace a still-unchanged initial secret by a hash nobody knows the secret of."""
        result = await self.collection.update_one(
            {
                "_id": account_id,
                "credentials.must_change": True,
                "credentials.initial_expired_ms": None,
                # not a secret re-issued since the job read the account
                "credentials.initial_valid_until_ms": {"$lt": now_ms},
            },
            {"$set": {"credentials.password_hash": unusable_hash, "credentials.initial_expired_ms": now_ms}},
        )
        return result.modified_count == 1

    async def close(self, account_id: str, now_ms: int) -> bool:
        """A withdrawn trainee's login stops working (locked, marked closed; kept for the record)."""
        result = await self.collection.update_one(
            {"_id": account_id, "programme": True, "closed_ms": None},
            {"$set": {"credentials.locked": True, "closed_ms": now_ms}},
        )
        return result.modified_count == 1
