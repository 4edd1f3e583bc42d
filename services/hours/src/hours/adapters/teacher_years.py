"""Teacher-year documents (``teacher_years``): per teacher and year the cap counters (``used.<group>``),
the grants by fact key, the ledger entries reserved but not yet written (``pending``), the applied state
of corrected results and the withdrawn facts (service_layer/crediting.py and corrections.py say why).

Every change is one conditional single-document update (``YearWrite``): it holds only while everything
it expects still holds, so concurrent writers never exceed a cap and a fact is granted once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from hours.adapters.mongo import TEACHER_YEARS

Doc = dict[str, Any]
DUPLICATE_KEY = 11000


@dataclass
class YearWrite:
    """One conditional write of a teacher-year: what it expects, then what it changes."""

    year_id: str
    # expectations
    no_grants: Sequence[str] = ()  # none of these fact keys has a grant yet
    grants_present: Mapping[str, bool] = field(default_factory=dict)  # key -> has a grant (True) or not
    used_at_most: Mapping[str, int] = field(default_factory=dict)  # group -> counter <= value
    used_is: Mapping[str, int | None] = field(default_factory=dict)  # group -> counter == value (None: absent)
    serial_is: Mapping[str, int | None] = field(default_factory=dict)  # group -> serial == value (None: absent)
    results_unapplied: Sequence[str] = ()  # result ids without an applied registration state
    result_rev: Mapping[str, int] = field(default_factory=dict)  # result id -> applied revision == value
    # changes
    grants: Mapping[str, int] = field(default_factory=dict)  # key -> units granted
    pending: Mapping[str, Doc] = field(default_factory=dict)  # key -> ledger entry to write next
    add_used: Mapping[str, int] = field(default_factory=dict)  # group -> units added to its counter
    bump_serial: Mapping[str, int] = field(default_factory=dict)  # group -> added to its serial
    results: Mapping[str, Doc] = field(default_factory=dict)  # result id -> new applied state
    withdrawn: Sequence[str] = ()  # fact keys withdrawn for good


class TeacherYearStore(Protocol):
    async def get(self, year_id: str) -> Doc | None: ...

    async def ensure(self, ce_number: str, year: int, groups: Sequence[str]) -> str: ...

    async def load_many(self, wanted: Mapping[str, tuple[str, int, Sequence[str]]]) -> dict[str, Doc]: ...

    async def write(self, change: YearWrite) -> bool: ...

    async def write_many(self, changes: Sequence[YearWrite]) -> int: ...

    async def reservations(self, year_ids: Sequence[str]) -> dict[str, Doc]: ...

    async def clear_pending(self, year_id: str, keys: Sequence[str]) -> None: ...

    async def clear_pending_many(self, done: Sequence[tuple[str, Sequence[str]]]) -> None: ...

    async def with_pending(self) -> list[tuple[str, dict[str, Doc]]]: ...


def year_id_of(ce_number: str, year: int) -> str:
    return f"{ce_number}:{year}"


def new_year(ce_number: str, year: int, groups: Sequence[str]) -> Doc:
    return {
        "_id": year_id_of(ce_number, year),
        "ce_number": ce_number,
        "year": year,
        "used": dict.fromkeys(groups, 0),
        "grants": {},
        "pending": {},
        "pending_count": 0,
    }


def _absent_or(value: Any) -> Any:
    return value if value is not None else {"$exists": False}


def as_update(change: YearWrite) -> tuple[Doc, Doc]:
    """The filter and the update of a ``YearWrite``."""
    condition: Doc = {"_id": change.year_id}
    for key in change.no_grants:
        condition[f"grants.{key}"] = {"$exists": False}
    for key, present in change.grants_present.items():
        condition[f"grants.{key}"] = {"$exists": present}
    for group, most in change.used_at_most.items():
        condition[f"used.{group}"] = {"$lte": most}
    for group, value in change.used_is.items():
        condition[f"used.{group}"] = _absent_or(value)
    for group, value in change.serial_is.items():
        condition[f"serial.{group}"] = _absent_or(value)
    for result_id in change.results_unapplied:
        condition[f"results.{result_id}"] = {"$exists": False}
    for result_id, rev in change.result_rev.items():
        condition[f"results.{result_id}.rev"] = rev
    sets: Doc = {f"grants.{key}": units for key, units in change.grants.items()}
    sets.update({f"pending.{key}": entry for key, entry in change.pending.items()})
    sets.update({f"results.{result_id}": state for result_id, state in change.results.items()})
    sets.update({f"withdrawn.{key}": True for key in change.withdrawn})
    inc: Doc = {}
    if change.pending:
        inc["pending_count"] = len(change.pending)
    inc.update({f"used.{group}": units for group, units in change.add_used.items()})
    inc.update({f"serial.{group}": n for group, n in change.bump_serial.items()})
    update: Doc = {}
    if sets:
        update["$set"] = sets
    if inc:
        update["$inc"] = inc
    return condition, update


def clear_pending_update(year_id: str, keys: Sequence[str]) -> tuple[Doc, Doc]:
    """Remove the pending copies of these grants once their ledger entries are written (only those still
    there, so the counter stays exact when two writers finish the same grant)."""
    return (
        {"_id": year_id, **{f"pending.{key}": {"$exists": True} for key in keys}},
        {"$unset": {f"pending.{key}": "" for key in keys}, "$inc": {"pending_count": -len(keys)}},
    )


class TeacherYears:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[TEACHER_YEARS]

    async def get(self, year_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": year_id})

    async def ensure(self, ce_number: str, year: int, groups: Sequence[str]) -> str:
        """The teacher-year document exists (created empty if not); returns its id."""
        doc = new_year(ce_number, year, groups)
        year_id: str = doc.pop("_id")
        try:
            await self.collection.update_one({"_id": year_id}, {"$setOnInsert": doc}, upsert=True)
        except DuplicateKeyError:
            pass
        return year_id

    async def load_many(self, wanted: Mapping[str, tuple[str, int, Sequence[str]]]) -> dict[str, Doc]:
        """``used`` and ``grants`` of these teacher-years (id -> teacher, year, cap groups), creating the
        missing ones in one unordered insert."""
        projection = {"used": 1, "grants": 1}
        ids = list(wanted)
        years = {doc["_id"]: doc async for doc in self.collection.find({"_id": {"$in": ids}}, projection)}
        new_docs = [new_year(*wanted[year_id]) for year_id in ids if year_id not in years]
        if not new_docs:
            return years
        taken: list[str] = []  # created meanwhile by another writer: read them
        try:
            await self.collection.insert_many(new_docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise
            taken = [new_docs[error["index"]]["_id"] for error in errors]
        for doc in new_docs:
            if doc["_id"] not in taken:
                years[doc["_id"]] = {"_id": doc["_id"], "used": doc["used"], "grants": doc["grants"]}
        if taken:
            async for doc in self.collection.find({"_id": {"$in": taken}}, projection):
                years[doc["_id"]] = doc
        return years

    async def write(self, change: YearWrite) -> bool:
        condition, update = as_update(change)
        return (await self.collection.update_one(condition, update)).modified_count == 1

    async def write_many(self, changes: Sequence[YearWrite]) -> int:
        """One unordered bulk write; returns how many held."""
        if not changes:
            return 0
        writes = [UpdateOne(*as_update(change)) for change in changes]
        return (await self.collection.bulk_write(writes, ordered=False)).modified_count

    async def reservations(self, year_ids: Sequence[str]) -> dict[str, Doc]:
        """``pending`` and ``grants`` of these teacher-years."""
        cursor = self.collection.find({"_id": {"$in": list(year_ids)}}, {"pending": 1, "grants": 1})
        return {doc["_id"]: doc async for doc in cursor}

    async def clear_pending(self, year_id: str, keys: Sequence[str]) -> None:
        await self.collection.update_one(*clear_pending_update(year_id, keys))

    async def clear_pending_many(self, done: Sequence[tuple[str, Sequence[str]]]) -> None:
        if done:
            writes = [UpdateOne(*clear_pending_update(year_id, keys)) for year_id, keys in done]
            await self.collection.bulk_write(writes, ordered=False)

    async def with_pending(self) -> list[tuple[str, dict[str, Doc]]]:
        """Teacher-years holding reserved entries not yet in the ledger (the repair job's work)."""
        return [
            (doc["_id"], dict(doc.get("pending") or {}))
            async for doc in self.collection.find({"pending_count": {"$gt": 0}}, {"pending": 1})
        ]
