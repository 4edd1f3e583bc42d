"""Local read copies of other services' data (a teacher directory, a contact book), kept current from
events. Safe under redelivery and reordering: each *part* of a copy (a teacher's profile, school,
status...) moves forward only in ``occurred_at``, on a stamp of its own (``<part>_as_of_ms``; a copy of
one part has ``as_of_ms``), compared as epoch milliseconds, a form every store compares the same way.
Events that change different parts then apply in any order and end in the same document.

Store forms (docs/DEVELOPING.md, pinned in tests/store_contract): never ``$or`` in a write's filter (with
``upsert=True`` the embedded store applied ``{"_id": k, "$or": [...]}`` to *another* document); the
guard is a ``$lt`` upsert on the own ``_id``, and a document without the part's stamp (written by another
path) is matched by ``<stamp>: None`` on its own ``_id``.

- ``upsert_newer`` / ``upsert_newer_many``: one change, or many in bulk (a few commands per batch).
- ``TeacherDirectory``: enrollment's teachers as every other service copies them, fed by
  ``TeacherRegistered``, ``TeacherChanged``, ``TeacherTransferred`` and ``TeacherArchived``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from jijiao_contracts import Envelope, IntegrationEvent
from jijiao_contracts.events.enrollment import TeacherArchived, TeacherChanged, TeacherRegistered, TeacherTransferred
from jijiao_kit.timeutil import epoch_ms

Doc = dict[str, Any]
DUPLICATE_KEY = 11000

#: Rounds of the single write before giving up; each lost round means a concurrent writer changed the
#: same document in between, so a few are plenty.
_ATTEMPTS = 5


def stamp_field(part: str | None = None) -> str:
    """Where a part's stamp lives: ``<part>_as_of_ms``, or ``as_of_ms`` for a copy of one part."""
    return "as_of_ms" if part is None else f"{part}_as_of_ms"


@dataclass(frozen=True)
class Change:
    """``fields`` of part ``part`` of document ``key`` as of ``as_of`` (the event's ``occurred_at``).
    A part's fields are its whole state: a newer change of the part replaces all of them."""

    key: str
    fields: Mapping[str, Any]
    as_of: datetime
    part: str | None = None

    @property
    def stamp(self) -> int:
        return epoch_ms(self.as_of)

    @property
    def stamp_field(self) -> str:
        return stamp_field(self.part)


async def upsert_newer(
    collection: AsyncCollection[Doc], key: str, fields: Mapping[str, Any], as_of: datetime, *, part: str | None = None
) -> bool:
    """Write ``fields`` into part ``part`` of document ``key`` unless that part already holds the same
    or a newer state. Returns whether anything was written: an older or repeated event changes nothing."""
    stamp, stamped = epoch_ms(as_of), stamp_field(part)
    update = {"$set": {**fields, stamped: stamp}}
    for _ in range(_ATTEMPTS):
        try:
            result = await collection.update_one({"_id": key, stamped: {"$lt": stamp}}, update, upsert=True)
        except DuplicateKeyError:
            pass  # the document exists and its part is not older than ours, or has no stamp
        else:
            return result.modified_count == 1 or result.upserted_id is not None
        unstamped = await collection.update_one({"_id": key, stamped: None}, update)
        if unstamped.modified_count == 1:
            return True
        current = await collection.find_one({"_id": key}, {stamped: 1})
        if current is not None and current.get(stamped) is not None and current[stamped] >= stamp:
            return False
        # changed between our writes (inserted older, or removed): try again
    return False


async def upsert_newer_many(collection: AsyncCollection[Doc], changes: Iterable[Change]) -> None:
    """``upsert_newer`` for many changes at once, with the same outcome as one by one in any order.

    The newest change per (document, part) wins; one read of the stamps; then at most one unordered
    ``bulk_write`` (guarded upserts of existing documents) and one unordered ``insert_many`` (new
    documents, every part of one document in one insert). A write that lost to a concurrent writer in
    between fails on the duplicate ``_id`` and goes the one-at-a-time way."""
    latest: dict[tuple[str, str | None], Change] = {}
    for change in changes:
        slot = (change.key, change.part)
        if slot not in latest or change.stamp > latest[slot].stamp:
            latest[slot] = change
    if not latest:
        return
    keys = sorted({key for key, _ in latest})
    stamps = {change.stamp_field: 1 for change in latest.values()}
    current = {doc["_id"]: doc async for doc in collection.find({"_id": {"$in": keys}}, stamps)}
    updates: list[UpdateOne] = []
    updated: list[Change] = []
    inserts: dict[str, Doc] = {}
    inserted: dict[str, list[Change]] = {}
    for change in latest.values():
        stamped, stamp = change.stamp_field, change.stamp
        doc = current.get(change.key)
        if doc is None:
            inserts.setdefault(change.key, {"_id": change.key}).update({**change.fields, stamped: stamp})
            inserted.setdefault(change.key, []).append(change)
            continue
        known = doc.get(stamped)
        if known is not None and known >= stamp:
            continue  # the part holds this or a newer state
        guard = None if known is None else {"$lt": stamp}
        updates.append(
            UpdateOne({"_id": change.key, stamped: guard}, {"$set": {**change.fields, stamped: stamp}}, upsert=True)
        )
        updated.append(change)
    retry: list[Change] = []
    if updates:
        try:
            await collection.bulk_write(updates, ordered=False)
        except BulkWriteError as exc:
            retry.extend(updated[index] for index in _duplicates(exc))
    if inserts:
        docs = list(inserts.values())
        try:
            await collection.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            for index in _duplicates(exc):
                retry.extend(inserted[docs[index]["_id"]])
    for change in retry:  # a concurrent writer changed the document between our read and our write
        await upsert_newer(collection, change.key, change.fields, change.as_of, part=change.part)


def _duplicates(exc: BulkWriteError) -> list[int]:
    """Indexes of the writes that met an existing ``_id``; any other error is raised."""
    errors = exc.details.get("writeErrors", [])
    if any(error.get("code") != DUPLICATE_KEY for error in errors):
        raise exc
    return [int(error["index"]) for error in errors]


# -- the teacher directory ---------------------------------------------------------------------------

#: The events that feed a teacher directory (every service that copies teachers subscribes to all four).
TEACHER_EVENTS: tuple[type[IntegrationEvent], ...] = (
    TeacherRegistered,
    TeacherChanged,
    TeacherTransferred,
    TeacherArchived,
)

#: A teacher's parts and their fields. ``profile``: who the teacher is (registration, change); ``school``:
#: where they teach (registration, change, transfer); ``status``: active, or archived as left, retired or
#: other (registration, archiving; an archiving with status "active" is a reactivation).
PARTS: dict[str, tuple[str, ...]] = {
    "profile": ("name", "mobile", "email", "subject", "stage", "title"),
    "school": ("school_id", "school_name", "district"),
    "status": ("active", "status"),
}
#: What a directory keeps of the profile unless told otherwise (contact details only where needed).
DEFAULT_PROFILE = ("name", "subject", "stage", "title")
_PART_OF = {name: part for part, names in PARTS.items() for name in names}
_ROUTING = {event.routing_key(): event for event in TEACHER_EVENTS}


def teacher_fields(envelope: Envelope) -> tuple[str, Doc]:
    """What a teacher event says about the teacher: their number and the fields it sets."""
    event = envelope.payload_as(_ROUTING[envelope.routing_key])
    if isinstance(event, TeacherRegistered | TeacherChanged):
        fields = event.model_dump(
            mode="json", include={"name", "mobile", "email", "subject", "stage", "title", *PARTS["school"]}
        )
        if isinstance(event, TeacherRegistered):
            fields |= {"active": True, "status": "active"}
        return event.ce_number, fields
    if isinstance(event, TeacherTransferred):
        return event.ce_number, {
            "school_id": event.to_school_id,
            "school_name": event.to_school_name,
            "district": event.to_district,
        }
    assert isinstance(event, TeacherArchived)
    return event.ce_number, {"active": event.status == "active", "status": event.status}


@dataclass
class TeacherDirectory:
    """A service's read copy of enrollment's teachers, one document per teacher, part by part.

    ``profile``: the profile fields this service keeps (``DEFAULT_PROFILE``; notify adds mobile and
    email). ``key``: the document id of a teacher (notify keys its contact book ``teacher:<number>``).
    ``constant``: fields written with every part (notify's ``kind``). The parts are written profile,
    school, status: a teacher who shows up active also has the school and address of that event."""

    collection: AsyncCollection[Doc]
    profile: Sequence[str] = DEFAULT_PROFILE
    key: Callable[[str], str] = field(default=lambda ce_number: ce_number)
    constant: Callable[[str], Mapping[str, Any]] = field(default=lambda ce_number: {})

    @staticmethod
    def routing_keys() -> list[str]:
        return sorted(_ROUTING)

    def changes(self, ce_number: str, fields: Mapping[str, Any], as_of: datetime) -> list[Change]:
        """The part changes ``fields`` make (a field of no part, or a profile field not kept, is dropped)."""
        kept = set(self.profile) | set(PARTS["school"]) | set(PARTS["status"])
        by_part: dict[str, Doc] = {}
        for name, value in fields.items():
            if name in kept and name in _PART_OF:
                by_part.setdefault(_PART_OF[name], {})[name] = value
        constant = self.constant(ce_number)
        return [
            Change(self.key(ce_number), {**constant, **by_part[part]}, as_of, part) for part in PARTS if part in by_part
        ]

    async def upsert(self, ce_number: str, fields: Mapping[str, Any], as_of: datetime) -> None:
        """Apply ``fields`` (as of ``as_of``) part by part, each only if newer than what the part holds."""
        for change in self.changes(ce_number, fields, as_of):
            await upsert_newer(self.collection, change.key, change.fields, change.as_of, part=change.part)

    async def upsert_many(self, items: Iterable[tuple[str, Mapping[str, Any], datetime]]) -> None:
        """``upsert`` of many teachers' fields at once (bulk writes)."""
        await upsert_newer_many(self.collection, [change for item in items for change in self.changes(*item)])

    async def apply(self, envelope: Envelope) -> None:
        """One teacher event (the one-at-a-time consumer)."""
        ce_number, fields = teacher_fields(envelope)
        await self.upsert(ce_number, fields, envelope.occurred_at)

    async def apply_many(self, envelopes: Iterable[Envelope]) -> None:
        """Many teacher events at once (a batch consumer): the same directory as one by one, in any order."""
        await self.upsert_many([(*teacher_fields(envelope), envelope.occurred_at) for envelope in envelopes])

    async def get(self, ce_number: str) -> Doc | None:
        """The teacher's copy as it stands (a transfer or an archiving may have come before the registration)."""
        return await self.collection.find_one({"_id": self.key(ce_number)})

    async def registered(self, ce_number: str) -> Doc | None:
        """The teacher's copy once it holds who and where they are (their registration or a change)."""
        doc = await self.collection.find_one({"_id": self.key(ce_number)})
        return doc if doc is not None and "name" in doc and "school_id" in doc else None
