"""Mongo repositories of baseline. Every invariant is a conditional write on ONE document (a counter
with its cap in the filter); a state change and its events are one write (kit outbox)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from baseline.adapters.mongo import BASES, BATCHES, DEMANDS, OUTCOMES, QUOTAS, STAGES, YEARS, ZONES
from jijiao_kit.coalescing import CoalescingQuery, by_id
from jijiao_kit.outbox import outbox_update, with_outbox

Doc = dict[str, Any]
Entries = Sequence[Doc]


class Duplicate(Exception):
    """A unique key (a name, an id) is taken."""


async def _update(collection: Any, doc_id: str, fields: Doc) -> bool:
    """``$set`` of ``fields`` on one document; a unique key taken (a name) is ``Duplicate``."""
    try:
        result = await collection.update_one({"_id": doc_id}, {"$set": fields})
    except DuplicateKeyError as exc:
        raise Duplicate(doc_id) from exc
    return bool(result.matched_count == 1)


async def _one(reader: CoalescingQuery, doc_id: str) -> Doc | None:
    """One document by ``_id``; concurrent callers share one ``find $in`` (``jijiao_kit.coalescing``), so
    the demand and trainee storms read the year, zones, stages and batches in a few commands."""
    found = await reader.find(doc_id)
    return found[0] if found else None


async def _insert(collection: Any, doc: Doc, entries: Entries = ()) -> None:
    try:
        await collection.insert_one(with_outbox(doc, entries) if entries else doc)
    except DuplicateKeyError as exc:
        raise Duplicate(str(doc.get("_id"))) from exc


@dataclass(frozen=True)
class Hold:
    """A reservation noted in the counter document by the write that takes it (``holds.<id>``): what it
    took (``amounts``, per counter) and when. A use case takes a counter, then writes the document that
    uses it (a demand, an allocation); a process that dies between the two leaves the hold behind, and
    the repair job gives back what it took. The hot path never clears a hold (no extra write per request):
    the repair job settles the ones whose document exists."""

    hold_id: str
    at_ms: int
    detail: Doc = field(default_factory=dict)  # what the repair job needs to find the using document


async def _reserve(collection: Any, doc_id: str, amounts: dict[str, int], hold: Hold, also: Doc | None = None) -> bool:
    """Conditional ``$inc`` on one document: every counter of ``amounts`` keeps at least the amount (and the
    document matches ``also``)."""
    query: Doc = {"_id": doc_id, f"holds.{hold.hold_id}": {"$exists": False}, **(also or {})}
    query.update({counter: {"$gte": amount} for counter, amount in amounts.items()})
    noted = {"amounts": amounts, "at_ms": hold.at_ms, **hold.detail}
    result = await collection.update_one(
        query,
        {
            "$inc": {**{counter: -amount for counter, amount in amounts.items()}, "holding": 1},
            "$set": {f"holds.{hold.hold_id}": noted},
        },
    )
    return bool(result.modified_count == 1)


async def _give_back(collection: Any, doc_id: str, hold_id: str, amounts: dict[str, int]) -> bool:
    """What the hold took (``amounts``, as noted in it) goes back, once: the hold's presence guards the
    increment, in the same write."""
    result = await collection.update_one(
        {"_id": doc_id, f"holds.{hold_id}": {"$exists": True}},
        {"$inc": {**amounts, "holding": -1}, "$unset": {f"holds.{hold_id}": ""}},
    )
    return bool(result.modified_count == 1)


async def _settle(collection: Any, doc_id: str, hold_id: str) -> None:
    """The using document exists: what the hold took is used; the hold is forgotten."""
    await collection.update_one(
        {"_id": doc_id, f"holds.{hold_id}": {"$exists": True}}, {"$unset": {f"holds.{hold_id}": ""}}
    )


async def _release_once(collection: Any, doc_id: str, key: str, amounts: dict[str, int]) -> bool:
    """Give ``amounts`` back for ``key`` at most once (``released.<key>`` is noted in the same write), so a
    release repeated after a crash, or by the repair job, counts once."""
    result = await collection.update_one(
        {"_id": doc_id, f"released.{key}": {"$exists": False}},
        {"$inc": dict(amounts), "$set": {f"released.{key}": True}},
    )
    return bool(result.modified_count == 1)


async def _with_holds(collection: Any) -> list[Doc]:
    """The documents with a hold left (``holding``: the number of holds, kept by the same writes)."""
    return [doc async for doc in collection.find({"holding": {"$gt": 0}}, {"holds": 1})]


class ReferenceRepository:
    """Bases, zones and academic years (the centre's reference data)."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.bases = db[BASES]
        self.zones = db[ZONES]
        self.years = db[YEARS]
        self._zone = by_id(self.zones, {"outbox": 0})
        self._year = by_id(self.years, {"outbox": 0})

    async def add_base(self, base: Doc) -> None:
        await _insert(self.bases, base)

    async def update_base(self, base_id: str, fields: Doc) -> bool:
        return await _update(self.bases, base_id, fields)

    async def update_zone(self, zone_id: str, fields: Doc) -> bool:
        return await _update(self.zones, zone_id, fields)

    async def get_base(self, base_id: str) -> Doc | None:
        return await self.bases.find_one({"_id": base_id})

    async def list_bases(self) -> list[Doc]:
        return [doc async for doc in self.bases.find({}).sort("name", 1)]

    async def add_zone(self, zone: Doc, entries: Entries) -> None:
        await _insert(self.zones, zone, entries)

    async def get_zone(self, zone_id: str) -> Doc | None:
        return await _one(self._zone, zone_id)

    async def set_zone_contact(self, zone_id: str, contact: Doc, entries: Entries) -> bool:
        result = await self.zones.update_one({"_id": zone_id}, outbox_update({"$set": {"contact": contact}}, entries))
        return result.matched_count == 1

    async def list_zones(self, zone_ids: list[str] | None = None) -> list[Doc]:
        query: Doc = {} if zone_ids is None else {"_id": {"$in": zone_ids}}
        return [doc async for doc in self.zones.find(query, {"outbox": 0}).sort("name", 1)]

    async def add_year(self, year: Doc) -> None:
        await _insert(self.years, year)

    async def set_deadlines(self, year: str, deadlines: Doc) -> bool:
        result = await self.years.update_one({"_id": year}, {"$set": deadlines})
        return result.matched_count == 1

    async def get_year(self, year: str) -> Doc | None:
        return await _one(self._year, year)

    async def reward(self, year: str, zone_id: str, now_ms: int, limit: int, entries: Entries) -> bool:
        """Mark ``zone_id`` rewarded in ``year``: at most ``limit`` zones, each once (one conditional write)."""
        result = await self.years.update_one(
            {"_id": year, "rewarded_count": {"$lt": limit}, f"rewarded.{zone_id}": None},
            outbox_update({"$inc": {"rewarded_count": 1}, "$set": {f"rewarded.{zone_id}": now_ms}}, entries),
        )
        return result.modified_count == 1


class QuotaRepository:
    """One document per zone and year holding what is left of its quota: ``demand_left`` (places a
    demand may still ask for), ``allocation_left`` and ``batches_left`` (what the centre may still allocate)."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[QUOTAS]

    async def ensure(self, quota_id: str, fields: Doc) -> None:
        await self.collection.update_one({"_id": quota_id}, {"$setOnInsert": fields}, upsert=True)

    async def apply_reward(self, quota_id: str, *, batches: int, places: int, now_ms: int) -> bool:
        """Add the reward once (``reward_applied`` guards a repeat)."""
        result = await self.collection.update_one(
            {"_id": quota_id, "reward_applied": None},
            {
                "$set": {"reward_applied": now_ms},
                "$inc": {
                    "reward_batches": batches,
                    "person_times": places,
                    "demand_left": places,
                    "allocation_left": places,
                    "batches_left": batches,
                },
            },
        )
        return result.modified_count == 1

    async def get(self, quota_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": quota_id}, {"holds": 0})

    async def list_year(self, year: str) -> list[Doc]:
        return [doc async for doc in self.collection.find({"year": year}, {"holds": 0})]

    async def reserve_demand(self, quota_id: str, places: int, hold: Hold) -> bool:
        """Take ``places`` of the demand quota and note the hold in the same write (see ``Hold``)."""
        return await _reserve(self.collection, quota_id, {"demand_left": places}, hold)

    async def release_demand(self, quota_id: str, demand_id: str, places: int) -> bool:
        """A rejected demand's places go back to the quota, once."""
        return await _release_once(self.collection, quota_id, demand_id, {"demand_left": places})

    async def reserve_allocation(self, quota_id: str, places: int, hold: Hold) -> bool:
        """Take ``places`` and one batch of what the centre may still allocate, noting the hold."""
        return await _reserve(self.collection, quota_id, {"allocation_left": places, "batches_left": 1}, hold)

    async def give_back(self, quota_id: str, hold_id: str, amounts: dict[str, int]) -> bool:
        return await _give_back(self.collection, quota_id, hold_id, amounts)

    async def settle(self, quota_id: str, hold_id: str) -> None:
        await _settle(self.collection, quota_id, hold_id)

    async def with_holds(self) -> list[Doc]:
        return await _with_holds(self.collection)


class StageRepository:
    """Places per year and stage: offered by the published batches, reserved by demands."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[STAGES]
        self._by_id = by_id(self.collection, {"holds": 0})  # the holds are the repair's bookkeeping

    async def offer(self, year: str, stage: str, places: int) -> None:
        await self.collection.update_one(
            {"_id": f"{year}:{stage}"},
            {"$inc": {"places": places, "free": places}, "$setOnInsert": {"year": year, "stage": stage}},
            upsert=True,
        )

    async def get(self, year: str, stage: str) -> Doc | None:
        return await _one(self._by_id, f"{year}:{stage}")

    async def list_year(self, year: str) -> list[Doc]:
        return [doc async for doc in self.collection.find({"year": year}, {"holds": 0})]

    async def reserve(self, year: str, stage: str, places: int, hold: Hold) -> bool:
        return await _reserve(self.collection, f"{year}:{stage}", {"free": places}, hold)

    async def release(self, year: str, stage: str, demand_id: str, places: int) -> bool:
        """A rejected demand's places go back to the stage, once."""
        return await _release_once(self.collection, f"{year}:{stage}", demand_id, {"free": places})

    async def give_back(self, stage_id: str, hold_id: str, amounts: dict[str, int]) -> bool:
        return await _give_back(self.collection, stage_id, hold_id, amounts)

    async def settle(self, stage_id: str, hold_id: str) -> None:
        await _settle(self.collection, stage_id, hold_id)

    async def with_holds(self) -> list[Doc]:
        return await _with_holds(self.collection)


class DemandRepository:
    """Demands in submission order. An approved demand's ``unallocated`` places are a counter the centre's
    allocations take (with a hold, like the quota's); a rejected one carries ``release_pending`` until its
    places are back in the stage and the quota."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[DEMANDS]

    async def add(self, demand: Doc, entries: Entries) -> None:
        await _insert(self.collection, demand, entries)

    async def get(self, demand_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": demand_id}, {"outbox": 0, "holds": 0})

    async def find(self, year: str, zone_id: str | None = None) -> list[Doc]:
        query: Doc = {"year": year} if zone_id is None else {"year": year, "zone_id": zone_id}
        return [doc async for doc in self.collection.find(query, {"outbox": 0, "holds": 0}).sort("sequence", 1)]

    async def review(self, demand_id: str, fields: Doc) -> bool:
        result = await self.collection.update_one({"_id": demand_id, "status": "pending"}, {"$set": {**fields}})
        return result.modified_count == 1

    async def take(self, demand_id: str, places: int, hold: Hold) -> bool:
        """Take ``places`` of an approved demand's unallocated places, noting the hold."""
        return await _reserve(self.collection, demand_id, {"unallocated": places}, hold, {"status": "approved"})

    async def released(self, demand_id: str) -> None:
        await self.collection.update_one({"_id": demand_id}, {"$unset": {"release_pending": ""}})

    async def pending_releases(self) -> list[Doc]:
        return [doc async for doc in self.collection.find({"release_pending": True}, {"outbox": 0, "holds": 0})]

    async def give_back(self, demand_id: str, hold_id: str, amounts: dict[str, int]) -> bool:
        return await _give_back(self.collection, demand_id, hold_id, amounts)

    async def settle(self, demand_id: str, hold_id: str) -> None:
        await _settle(self.collection, demand_id, hold_id)

    async def with_holds(self) -> list[Doc]:
        return await _with_holds(self.collection)


class BatchRepository:
    """A batch with its allocations (``zones.<zone_id>``) and each zone's trainees
    (``zones.<zone_id>.trainees.<trainee_id>``): every cap of a batch is a counter of this one document."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[BATCHES]
        self._by_id = by_id(self.collection, {"outbox": 0})

    async def add(self, batch: Doc) -> None:
        await _insert(self.collection, batch)

    async def get(self, batch_id: str) -> Doc | None:
        return await _one(self._by_id, batch_id)

    async def find(self, year: str, *, zone_id: str | None = None, stage: str | None = None) -> list[Doc]:
        query: Doc = {"year": year}
        if stage:
            query["stage"] = stage
        if zone_id:
            query[f"zones.{zone_id}"] = {"$exists": True}
        return [doc async for doc in self.collection.find(query, {"outbox": 0}).sort("start_ms", 1)]

    async def rename_base(self, base_id: str, name: str) -> None:
        """Batches keep their base's name (read without a join): a renamed base renames them."""
        await self.collection.update_many({"base_id": base_id}, {"$set": {"base_name": name}})

    async def rename_zone(self, zone_id: str, name: str) -> None:
        await self.collection.update_many(
            {f"zones.{zone_id}": {"$exists": True}}, {"$set": {f"zones.{zone_id}.zone_name": name}}
        )

    async def list_all(self, year: str) -> list[Doc]:
        return await self.find(year)

    async def allocate(self, batch_id: str, zone_id: str, allocation: Doc, entries: Entries) -> bool:
        result = await self.collection.update_one(
            {"_id": batch_id, "zones_left": {"$gte": 1}, f"zones.{zone_id}": {"$exists": False}},
            outbox_update({"$inc": {"zones_left": -1}, "$set": {f"zones.{zone_id}": allocation}}, entries),
        )
        return result.modified_count == 1

    @staticmethod
    def _list_state(
        batch_id: str, zone_id: str, *, confirmed: bool, version: int | None = None, check_version: bool = False
    ) -> Doc:
        """The filter of a write to a zone's list in the state its caller read: unconfirmed (the zone
        contact's and the centre's edits before confirming) or confirmed (the centre's later edits,
        which carry the login events); with ``check_version`` also the very version read."""
        prefix = f"zones.{zone_id}"
        query: Doc = {"_id": batch_id, f"{prefix}.confirmed_at": {"$gt": 0} if confirmed else None}
        if check_version:
            query[f"{prefix}.version"] = version  # None also matches a list written before versions
        return query

    async def add_trainee(
        self, batch_id: str, zone_id: str, trainee: Doc, *, confirmed: bool, entries: Entries = ()
    ) -> bool:
        """Add a trainee to a list still in the state read (``confirmed``), never beyond its places."""
        prefix = f"zones.{zone_id}"
        query = self._list_state(batch_id, zone_id, confirmed=confirmed)
        query[f"{prefix}.free"] = {"$gte": 1}
        result = await self.collection.update_one(
            query,
            outbox_update(
                {
                    "$inc": {f"{prefix}.free": -1, f"{prefix}.count": 1, f"{prefix}.version": 1},
                    "$set": {f"{prefix}.trainees.{trainee['trainee_id']}": trainee},
                },
                entries,
            ),
        )
        return result.modified_count == 1

    async def update_trainee(
        self,
        batch_id: str,
        zone_id: str,
        trainee_id: str,
        fields: Doc,
        *,
        confirmed: bool,
        version: int | None,
        entries: Entries = (),
    ) -> bool:
        """Change a trainee of a list still in the state read. A confirmed list changes only at the
        version read (so the event's version, ``version + 1``, is this change's)."""
        prefix = f"zones.{zone_id}"
        query = self._list_state(batch_id, zone_id, confirmed=confirmed, version=version, check_version=confirmed)
        query[f"{prefix}.trainees.{trainee_id}"] = {"$exists": True}
        sets = {f"{prefix}.trainees.{trainee_id}.{key}": value for key, value in fields.items()}
        result = await self.collection.update_one(
            query, outbox_update({"$set": sets, "$inc": {f"{prefix}.version": 1}}, entries)
        )
        return result.matched_count == 1

    async def remove_trainee(
        self, batch_id: str, zone_id: str, trainee_id: str, *, confirmed: bool, entries: Entries = ()
    ) -> bool:
        prefix = f"zones.{zone_id}"
        query = self._list_state(batch_id, zone_id, confirmed=confirmed)
        query[f"{prefix}.trainees.{trainee_id}"] = {"$exists": True}
        result = await self.collection.update_one(
            query,
            outbox_update(
                {
                    "$unset": {f"{prefix}.trainees.{trainee_id}": ""},
                    "$inc": {f"{prefix}.free": 1, f"{prefix}.count": -1, f"{prefix}.version": 1},
                },
                entries,
            ),
        )
        return result.modified_count == 1

    async def confirm(self, batch_id: str, zone_id: str, version: int | None, now_ms: int, entries: Entries) -> bool:
        """Confirm the list as it was read: every add, change and removal bumps its version, so an edit
        landing between the read and this write makes it match nothing (the event lists the stored list)."""
        prefix = f"zones.{zone_id}"
        query = self._list_state(batch_id, zone_id, confirmed=False, version=version, check_version=True)
        query[f"{prefix}.count"] = {"$gte": 1}
        result = await self.collection.update_one(
            query, outbox_update({"$set": {f"{prefix}.confirmed_at": now_ms}}, entries)
        )
        return result.modified_count == 1

    async def mark_trainee(
        self, batch_id: str, zone_id: str, trainee_id: str, field: str, now_ms: int, entries: Entries = ()
    ) -> bool:
        """Set ``field`` (``reported_at``, ``checked_in_at``, ``reminded_at``, ``overdue_at``) of a
        confirmed trainee once."""
        path = f"zones.{zone_id}.trainees.{trainee_id}"
        result = await self.collection.update_one(
            {
                "_id": batch_id,
                f"zones.{zone_id}.confirmed_at": {"$gt": 0},
                f"{path}.trainee_id": trainee_id,
                f"{path}.{field}": None,
            },
            outbox_update({"$set": {f"{path}.{field}": now_ms}}, entries),
        )
        return result.modified_count == 1

    async def ended_between(self, since_ms: int, until_ms: int) -> list[Doc]:
        """Batches whose stay ended in [since, until] (the outcome window of their trainees)."""
        query = {"end_ms": {"$gte": since_ms, "$lte": until_ms}}
        return [doc async for doc in self.collection.find(query, {"outbox": 0})]


class OutcomeRepository:
    """One outcome report (学习成果) per trainee, and one sharing session (分享报告) per trainee in a
    collection of its own (recorded, and corrected, independently of the report): the trainee id is the key."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        from baseline.adapters.mongo import SHARINGS

        self.collection = db[OUTCOMES]
        self.sharings = db[SHARINGS]

    async def record_sharing(self, sharing: Doc) -> None:
        """The trainee's sharing session, replacing the one recorded before."""
        fields = {key: value for key, value in sharing.items() if key != "_id"}
        await self.sharings.update_one({"_id": sharing["_id"]}, {"$set": fields}, upsert=True)

    async def sharings_of(self, trainee_ids: list[str]) -> dict[str, Doc]:
        cursor = self.sharings.find({"_id": {"$in": trainee_ids}}, {"shared_on": 1})
        return {doc["_id"]: doc async for doc in cursor}

    async def sharings_of_year(self, year: str, zone_id: str | None = None) -> dict[str, str]:
        """Per trainee who recorded a sharing session in ``year``: its day (ISO)."""
        query: Doc = {"year": year} if zone_id is None else {"year": year, "zone_id": zone_id}
        return {doc["_id"]: doc["shared_on"] async for doc in self.sharings.find(query, {"shared_on": 1})}

    async def add(self, outcome: Doc) -> None:
        await _insert(self.collection, outcome)

    async def of_trainees(self, trainee_ids: list[str]) -> set[str]:
        """Which of ``trainee_ids`` uploaded their report (the ids only, not the reports)."""
        return {doc["_id"] async for doc in self.collection.find({"_id": {"$in": trainee_ids}}, {"_id": 1})}

    async def of_year(self, year: str, zone_id: str | None = None) -> list[Doc]:
        query: Doc = {"year": year} if zone_id is None else {"year": year, "zone_id": zone_id}
        return [doc async for doc in self.collection.find(query).sort("uploaded_at", 1)]

    async def trainees_of_year(self, year: str, zone_id: str | None = None) -> set[str]:
        """Who uploaded an outcome in ``year`` (the trainee ids only, not the reports)."""
        query: Doc = {"year": year} if zone_id is None else {"year": year, "zone_id": zone_id}
        return {doc["_id"] async for doc in self.collection.find(query, {"_id": 1})}


class ReflectionRepository:
    """Reflections, their images, and per trainee the counters that cap both (``WRITINGS``).

    A slot is taken by a conditional ``$inc`` under the cap that notes the item's id in the same write
    (``take``), before the item is inserted; deleting a reflection gives its slot back (``give_back``,
    guarded by the noted id, so once). A request that dies between the two writes leaves a noted id
    without its item: ``repair`` gives such slots back once they are older than a grace period, so the
    count never passes the cap and never keeps a slot nothing uses."""

    #: What each counter counts: the counter field and the map of noted ids.
    KINDS: ClassVar[dict[str, tuple[str, str]]] = {
        "reflections": ("reflections", "reflection_ids"),
        "images": ("images", "image_ids"),
    }

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        from baseline.adapters.mongo import IMAGES, REFLECTIONS, WRITINGS

        self.collection = db[REFLECTIONS]
        self.images = db[IMAGES]
        self.writings = db[WRITINGS]

    def _items(self, kind: str) -> Any:
        return self.collection if kind == "reflections" else self.images

    async def _take_once(self, kind: str, trainee_id: str, item_id: str, cap: int, now_ms: int) -> bool:
        counter, ids = self.KINDS[kind]
        result = await self.writings.update_one(
            {"_id": trainee_id, counter: {"$lt": cap}, f"{ids}.{item_id}": {"$exists": False}},
            {"$inc": {counter: 1}, "$set": {f"{ids}.{item_id}": now_ms}},
        )
        return bool(result.modified_count == 1)

    async def take(self, kind: str, trainee_id: str, item_id: str, *, cap: int, now_ms: int, grace_ms: int) -> bool:
        """One slot of ``kind`` (``reflections`` or ``images``) for ``item_id``, if the trainee holds fewer
        than ``cap``. At the cap, slots of items that never arrived (older than ``grace_ms``) go back first."""
        if await self._take_once(kind, trainee_id, item_id, cap, now_ms):
            return True
        await self.writings.update_one(
            {"_id": trainee_id}, {"$setOnInsert": {"reflections": 0, "images": 0}}, upsert=True
        )  # the trainee's first item
        if await self._take_once(kind, trainee_id, item_id, cap, now_ms):
            return True
        # Try again whatever this repair gave back: a concurrent request's repair may have freed the slots.
        await self.repair(kind, trainee_id, now_ms - grace_ms)
        return await self._take_once(kind, trainee_id, item_id, cap, now_ms)

    async def give_back(self, kind: str, trainee_id: str, item_id: str) -> bool:
        counter, ids = self.KINDS[kind]
        result = await self.writings.update_one(
            {"_id": trainee_id, f"{ids}.{item_id}": {"$exists": True}},
            {"$inc": {counter: -1}, "$unset": {f"{ids}.{item_id}": ""}},
        )
        return bool(result.modified_count == 1)

    async def repair(self, kind: str, trainee_id: str, taken_before_ms: int) -> int:
        """Give back the slots taken before ``taken_before_ms`` whose item does not exist; how many."""
        _, ids = self.KINDS[kind]
        doc = await self.writings.find_one({"_id": trainee_id}, {ids: 1}) or {}
        old = [item for item, at_ms in (doc.get(ids) or {}).items() if int(at_ms) <= taken_before_ms]
        if not old:
            return 0
        present = {d["_id"] async for d in self._items(kind).find({"_id": {"$in": old}}, {"_id": 1})}
        return sum([await self.give_back(kind, trainee_id, item) for item in old if item not in present])

    async def own_images(self, trainee_id: str, image_ids: Collection[str]) -> set[str]:
        """Which of ``image_ids`` ``trainee_id`` uploaded."""
        query = {"_id": {"$in": list(image_ids)}, "trainee_id": trainee_id}
        return {doc["_id"] async for doc in self.images.find(query, {"_id": 1})}

    async def add(self, reflection: Doc) -> None:
        await _insert(self.collection, reflection)

    async def get(self, reflection_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": reflection_id}, {"outbox": 0})

    async def of_trainee(self, trainee_id: str) -> list[Doc]:
        cursor = self.collection.find({"trainee_id": trainee_id}, {"outbox": 0}).sort("created_ms", 1)
        return [doc async for doc in cursor]

    async def find(self, query: Doc) -> list[Doc]:
        return [doc async for doc in self.collection.find(query, {"outbox": 0}).sort("created_ms", 1)]

    async def update_own(self, reflection_id: str, trainee_id: str, fields: Doc) -> bool:
        """The author's edit; it clears the excellent mark in the same write (the centre marks again)."""
        result = await self.collection.update_one(
            {"_id": reflection_id, "trainee_id": trainee_id}, {"$set": {**fields, "excellent": False}}
        )
        return result.matched_count == 1

    async def delete_own(self, reflection_id: str, trainee_id: str) -> bool:
        """The author's delete of a reflection not marked excellent (one conditional delete). ``$in`` and
        not ``$ne: True``: nx-27017 does not delete by ``$ne`` a document that lacks the field."""
        result = await self.collection.delete_one(
            {"_id": reflection_id, "trainee_id": trainee_id, "excellent": {"$in": [False, None]}}
        )
        return result.deleted_count == 1

    async def mark_excellent(self, reflection_id: str, excellent: bool) -> bool:
        result = await self.collection.update_one({"_id": reflection_id}, {"$set": {"excellent": excellent}})
        return result.matched_count == 1

    async def add_image(self, image: Doc) -> None:
        await self.images.insert_one(image)

    async def get_image(self, image_id: str) -> Doc | None:
        return await self.images.find_one({"_id": image_id})

    async def of_year(self, year: str, *, zone_id: str | None = None, excellent_only: bool = False) -> list[Doc]:
        query: Doc = {"year": year}
        if zone_id:
            query["zone_id"] = zone_id
        if excellent_only:
            query["excellent"] = True
        return await self.find(query)

    async def tallies_of_year(self, year: str, *, zone_id: str | None = None) -> list[Doc]:
        """Per reflection of ``year`` only its author and its mark (``trainee_id``, ``excellent``): what the
        archive counts, without the texts."""
        query: Doc = {"year": year} if zone_id is None else {"year": year, "zone_id": zone_id}
        return [doc async for doc in self.collection.find(query, {"_id": 0, "trainee_id": 1, "excellent": 1})]
