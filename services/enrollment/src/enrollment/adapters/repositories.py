"""Repositories: the only place enrollment's service layer reaches Mongo through."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from enrollment.adapters.mongo import ACCOUNTS, SCHOOLS, TEACHERS
from jijiao_kit.coalescing import CoalescingReader
from jijiao_kit.outbox import outbox_update, with_outbox

Doc = dict[str, Any]


class AlreadyExists(Exception):
    def __init__(self, index: str) -> None:
        super().__init__(index)
        self.index = index


def _duplicate_index(error: DuplicateKeyError) -> str:
    details = error.details or {}
    pattern = details.get("keyPattern") or {}
    if pattern:
        return ",".join(pattern)
    return str(details.get("errmsg", error))


class _Repository:
    """Insert with first events, read by key; the outbox never leaves the repository."""

    collection_name: ClassVar[str]

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection: AsyncCollection[Doc] = db[self.collection_name]

    async def add(self, document: Doc, events: Sequence[Doc] = ()) -> None:
        try:
            await self.collection.insert_one(with_outbox(document, events))
        except DuplicateKeyError as exc:
            raise AlreadyExists(_duplicate_index(exc)) from exc

    async def get(self, key: str) -> Doc | None:
        return await self.collection.find_one({"_id": key}, {"outbox": 0})

    async def update_where(self, condition: Doc, update: Doc, events: Sequence[Doc] = ()) -> bool:
        """One conditional single-document write carrying its events; False when nothing matched.

        A unique-index violation raises AlreadyExists (nothing is written then)."""
        try:
            result = await self.collection.update_one(condition, outbox_update(update, events))
        except DuplicateKeyError as exc:
            raise AlreadyExists(_duplicate_index(exc)) from exc
        return result.modified_count == 1

    async def find(self, query: Doc, *, sort: str = "_id", limit: int = 200, skip: int = 0) -> list[Doc]:
        cursor = self.collection.find(query, {"outbox": 0}).sort(sort, 1).skip(skip).limit(limit)
        return [doc async for doc in cursor]


class _Credentials(_Repository):
    """Failed-login counting and locking on documents that carry ``credentials`` (§1: 10 wrong
    passwords lock the account). Shared by teacher records and administrator accounts."""

    async def record_failed_login(self, key: str, *, below: int | None = None) -> int | None:
        """Count one wrong password atomically and return the new count. With ``below``, count only
        while fewer than ``below`` are counted (a try that passed no image code counts toward the
        image code, never past it): None when not counted. Two conditional updates, never ``$or``."""
        branches: list[Any] = [None] if below is None else [{"$lt": below}, {"$exists": False}]
        for branch in branches:
            query: Doc = {"_id": key} if branch is None else {"_id": key, "credentials.failed_attempts": branch}
            doc = await self.collection.find_one_and_update(
                query,
                {"$inc": {"credentials.failed_attempts": 1}},
                projection={"credentials": 1},
                return_document=ReturnDocument.AFTER,
            )
            if doc:
                return int(doc["credentials"]["failed_attempts"])
        return None

    async def lock(self, key: str, events: Sequence[Doc]) -> bool:
        """Lock once: only the update that finds the account unlocked emits the event."""
        result = await self.collection.update_one(
            {"_id": key, "credentials.locked": False},
            outbox_update({"$set": {"credentials.locked": True}}, events),
        )
        return result.modified_count == 1

    async def unlock(self, key: str, events: Sequence[Doc]) -> bool:
        result = await self.collection.update_one(
            {"_id": key, "credentials.locked": True},
            outbox_update({"$set": {"credentials.locked": False, "credentials.failed_attempts": 0}}, events),
        )
        return result.modified_count == 1

    async def reset_failed_logins(self, key: str) -> None:
        await self.collection.update_one(
            {"_id": key, "credentials.failed_attempts": {"$gt": 0}},
            {"$set": {"credentials.failed_attempts": 0}},
        )


class SchoolRepository(_Repository):
    collection_name = SCHOOLS

    async def list(self, *, district: str | None = None, limit: int = 200, skip: int = 0) -> list[Doc]:
        query: Doc = {"district": district} if district else {}
        cursor = self.collection.find(query, {"outbox": 0}).sort("name", 1).skip(skip).limit(limit)
        return [doc async for doc in cursor]

    async def set_principal(self, school_id: str, ce_number: str, at: Any) -> bool:
        """Authorise the one principal: only a school without one accepts it (the store decides)."""
        result = await self.collection.update_one(
            {"_id": school_id, "principal_ce_number": None},
            {"$set": {"principal_ce_number": ce_number, "principal_since": at}},
        )
        return result.modified_count == 1

    async def clear_principal(self, school_id: str, ce_number: str) -> bool:
        result = await self.collection.update_one(
            {"_id": school_id, "principal_ce_number": ce_number},
            {"$set": {"principal_ce_number": None, "principal_since": None}},
        )
        return result.modified_count == 1


class TeacherRepository(_Credentials):
    collection_name = TEACHERS

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        super().__init__(db)
        # Under a selection storm every request reads its teacher: concurrent reads go out as one
        # find $in (see jijiao_kit.coalescing); a read still sees every write finished before it.
        self._reader = CoalescingReader(self.collection, {"outbox": 0})

    async def get(self, key: str) -> Doc | None:
        return await self._reader.get(key)

    async def by_id_number(self, id_number: str) -> Doc | None:
        return await self.collection.find_one({"id_number": id_number}, {"outbox": 0})

    async def by_mobile(self, mobile: str) -> list[Doc]:
        return [doc async for doc in self.collection.find({"mobile": mobile}, {"outbox": 0}).limit(2)]

    async def list_for_school(self, school_id: str, *, limit: int = 500, skip: int = 0) -> list[Doc]:
        cursor = self.collection.find({"school_id": school_id}, {"outbox": 0}).sort("_id", 1).skip(skip).limit(limit)
        return [doc async for doc in cursor]

    async def locked_in_school(self, school_id: str) -> list[Doc]:
        return await self.find({"school_id": school_id, "credentials.locked": True}, limit=1000)

    # -- special users (特殊用户) ---------------------------------------------------------------------

    async def flag_special_user(
        self, ce_number: str, term: str, *, expected_times: int, flag: Doc, events: Sequence[Doc]
    ) -> bool:
        """Flag once per term (the map key ``special_flags.<term>``), conditional on the times read so
        the event's count is exact; False when flagged for this term already or the count moved.

        "Never flagged" is ``special_user_times`` 0 or missing: two conditional updates on the own
        ``_id``, one per branch. Never ``$or`` in a write filter: the embedded store applies
        ``{"_id": k, "$or": [...]}`` to ANOTHER document (docs/DEVELOPING.md, tests/store_contract)."""
        branches: list[Any] = [expected_times] if expected_times else [0, {"$exists": False}]
        update = outbox_update(
            {"$set": {"special_user": True, f"special_flags.{term}": flag, "special_user_times": expected_times + 1}},
            events,
        )
        for times_condition in branches:
            result = await self.collection.update_one(
                {"_id": ce_number, f"special_flags.{term}": {"$exists": False}, "special_user_times": times_condition},
                update,
            )
            if result.modified_count == 1:
                return True
        return False

    async def clear_special_user(
        self, ce_number: str, clearance_id: str, clearance: Doc, events: Sequence[Doc]
    ) -> bool:
        """Clear once: only the update that finds the teacher flagged emits the event."""
        result = await self.collection.update_one(
            {"_id": ce_number, "special_user": True},
            outbox_update({"$set": {"special_user": False, f"special_clearances.{clearance_id}": clearance}}, events),
        )
        return result.modified_count == 1

    async def special_users(self, query: Doc) -> list[Doc]:
        cursor = self.collection.find({**query, "special_user": True}, {"outbox": 0, "credentials": 0}).sort("_id", 1)
        return [doc async for doc in cursor]


class AccountRepository(_Credentials):
    """Administrator accounts (real-name, phone-bound; teachers sign in with their teacher record)."""

    collection_name = ACCOUNTS

    async def by_username(self, username: str) -> Doc | None:
        return await self.collection.find_one({"username": username}, {"outbox": 0})

    async def by_mobile(self, mobile: str) -> list[Doc]:
        return [doc async for doc in self.collection.find({"mobile": mobile}, {"outbox": 0}).limit(2)]

    async def locked_in_school(self, school_id: str) -> list[Doc]:
        return await self.find({"scopes.school_id": school_id, "credentials.locked": True}, limit=1000)
