"""Points accounts (``points_accounts``): one document per teacher and year with balance, per-rule
earnings, the facts (keyed, one string each: adapters/points_facts.py), redemptions and the expiry mark.
Every change is a compare-and-set on ``version`` that carries its events in the same write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from hours.adapters import points_facts
from hours.adapters.mongo import POINTS
from jijiao_kit.outbox import outbox_update

Doc = dict[str, Any]
LIGHT = {"outbox": 0, "facts": 0, "redemptions": 0}
DUPLICATE_KEY = 11000


def account_id_of(ce_number: str, year: int) -> str:
    return f"{ce_number}:{year}"


def new_account(account_id: str, ce_number: str, year: int) -> Doc:
    return {
        "_id": account_id,
        "ce_number": ce_number,
        "year": year,
        "version": 0,
        "earned": 0,
        "spent": 0,
        "expired": 0,
        "balance": 0,
        "closed": False,
        "by_rule": {},
        "facts": {},
        "redeemed": {"professional": 0, "elective": 0},
        "redemptions": {},
        "outbox": {},
        "outbox_pending": 0,
    }


@dataclass
class NewFacts:
    """Facts earned by one account in one write (read at ``version``)."""

    account_id: str
    version: int
    facts: Mapping[str, Doc]  # key -> rule, reference, source, at, requested, points, reason
    by_rule: Mapping[str, int]  # rule -> points added
    points: int  # added to earned and balance
    events: Sequence[Doc] = ()
    only_if_new: str | None = None  # also expect this fact key to be absent


class PointsAccountStore(Protocol):
    async def load(self, ce_number: str, year: int) -> Doc: ...

    async def load_many(self, wanted: Mapping[str, tuple[str, int]]) -> dict[str, Doc]: ...

    async def add_facts(self, change: NewFacts) -> bool: ...

    async def add_facts_many(self, changes: Sequence[NewFacts]) -> int: ...

    async def has_fact(self, account_id: str, key: str) -> bool: ...

    async def fact_keys(self, account_ids: Sequence[str]) -> dict[str, set[str]]: ...

    async def get_light(self, account_id: str) -> Doc | None: ...

    async def view(self, ce_number: str, year: int) -> Doc | None: ...

    async def redeem(
        self, account_id: str, version: int, redemption: Doc, category: str, events: Sequence[Doc]
    ) -> bool: ...

    async def open_before(self, year: int) -> list[str]: ...

    async def close(self, account_id: str, version: int, expired: int, at: datetime, events: Sequence[Doc]) -> bool: ...

    async def to_remind(self, year: int, min_balance: int, *, skip: int, limit: int) -> list[Doc]: ...

    async def mark_reminded_many(self, reminders: Sequence[tuple[str, int, int, Sequence[Doc]]]) -> int: ...


def _facts_update(change: NewFacts) -> tuple[Doc, Doc]:
    condition: Doc = {"_id": change.account_id, "version": change.version}
    if change.only_if_new is not None:
        condition[f"facts.{change.only_if_new}"] = {"$exists": False}
    inc: Doc = {"version": 1}
    inc.update({f"by_rule.{rule}": points for rule, points in change.by_rule.items()})
    inc["earned"] = change.points
    inc["balance"] = change.points
    sets = {f"facts.{key}": points_facts.encode(fact) for key, fact in change.facts.items()}
    return condition, outbox_update({"$set": sets, "$inc": inc}, change.events)


class PointsAccounts:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[POINTS]

    async def load(self, ce_number: str, year: int) -> Doc:
        """The account without its facts, redemptions and outbox (created empty if missing)."""
        account_id = account_id_of(ce_number, year)
        doc = await self.collection.find_one({"_id": account_id}, LIGHT)
        if doc is not None:
            return doc
        try:
            await self.collection.insert_one(new_account(account_id, ce_number, year))
        except DuplicateKeyError:
            pass
        return await self.collection.find_one({"_id": account_id}, LIGHT) or {}

    async def get_light(self, account_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": account_id}, LIGHT)

    async def view(self, ce_number: str, year: int) -> Doc | None:
        """The whole account as the API shows it (without its outbox)."""
        return await self.collection.find_one({"_id": account_id_of(ce_number, year)}, {"outbox": 0})

    async def load_many(self, wanted: Mapping[str, tuple[str, int]]) -> dict[str, Doc]:
        """These accounts (id -> teacher, year) with their facts, creating the missing ones in one insert."""
        ids = list(wanted)
        projection = {"outbox": 0, "redemptions": 0}
        accounts = {doc["_id"]: doc async for doc in self.collection.find({"_id": {"$in": ids}}, projection)}
        docs = [new_account(account_id, *wanted[account_id]) for account_id in ids if account_id not in accounts]
        if not docs:
            return accounts
        taken: list[str] = []  # created meanwhile by another writer: read them
        try:
            await self.collection.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise
            taken = [docs[error["index"]]["_id"] for error in errors]
        for doc in docs:
            if doc["_id"] not in taken:
                accounts[doc["_id"]] = {key: value for key, value in doc.items() if key not in projection}
        if taken:
            async for doc in self.collection.find({"_id": {"$in": taken}}, projection):
                accounts[doc["_id"]] = doc
        return accounts

    async def add_facts(self, change: NewFacts) -> bool:
        return (await self.collection.update_one(*_facts_update(change))).modified_count == 1

    async def add_facts_many(self, changes: Sequence[NewFacts]) -> int:
        if not changes:
            return 0
        writes = [UpdateOne(*_facts_update(change)) for change in changes]
        return (await self.collection.bulk_write(writes, ordered=False)).modified_count

    async def has_fact(self, account_id: str, key: str) -> bool:
        return bool(await self.collection.count_documents({"_id": account_id, f"facts.{key}": {"$exists": True}}))

    async def fact_keys(self, account_ids: Sequence[str]) -> dict[str, set[str]]:
        cursor = self.collection.find({"_id": {"$in": list(account_ids)}}, {"facts": 1})
        return {doc["_id"]: set(doc.get("facts") or {}) async for doc in cursor}

    async def redeem(
        self, account_id: str, version: int, redemption: Doc, category: str, events: Sequence[Doc]
    ) -> bool:
        """Spend ``redemption["points"]`` for ``redemption["hours"]`` of ``category`` while the account is
        open and unchanged."""
        update = outbox_update(
            {
                "$set": {f"redemptions.{redemption['id']}": redemption},
                "$inc": {
                    "version": 1,
                    "balance": -redemption["points"],
                    "spent": redemption["points"],
                    f"redeemed.{category}": redemption["hours"],
                },
            },
            events,
        )
        written = await self.collection.update_one({"_id": account_id, "version": version, "closed": False}, update)
        return written.modified_count == 1

    async def open_before(self, year: int) -> list[str]:
        """Ids of the open accounts of years before ``year``."""
        cursor = self.collection.find({"year": {"$lt": year}, "closed": False}, {"_id": 1})
        return [doc["_id"] async for doc in cursor]

    async def close(self, account_id: str, version: int, expired: int, at: datetime, events: Sequence[Doc]) -> bool:
        """Close the account: its balance of ``expired`` points expires."""
        update = outbox_update(
            {
                # a bare datetime in $set comes back as a string from the embedded store: keep it in a sub-document
                "$set": {"closed": True, "balance": 0, "expired": expired, "expiry": {"at": at, "points": expired}},
                "$inc": {"version": 1},
            },
            events,
        )
        written = await self.collection.update_one({"_id": account_id, "version": version}, update)
        return written.modified_count == 1

    async def to_remind(self, year: int, min_balance: int, *, skip: int, limit: int) -> list[Doc]:
        """Open accounts of ``year`` holding at least ``min_balance`` points and not reminded yet."""
        query = {"year": year, "closed": False, "balance": {"$gte": min_balance}, "expiry_reminder": {"$exists": False}}
        return [doc async for doc in self.collection.find(query, LIGHT).sort("_id", 1).skip(skip).limit(limit)]

    async def mark_reminded_many(self, reminders: Sequence[tuple[str, int, int, Sequence[Doc]]]) -> int:
        """(account id, version, balance, events): the reminder marker with its event, per unchanged account."""
        if not reminders:
            return 0
        writes = [
            UpdateOne(
                {"_id": account_id, "version": version},
                outbox_update({"$set": {"expiry_reminder": {"balance": balance}}, "$inc": {"version": 1}}, events),
            )
            for account_id, version, balance, events in reminders
        ]
        return (await self.collection.bulk_write(writes, ordered=False)).modified_count
