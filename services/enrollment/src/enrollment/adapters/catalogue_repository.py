"""Courses in Mongo: ``_id`` = ``{term}:{code}``; ``taken`` is the capacity counter (conditional $inc)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from enrollment.adapters.mongo import COURSE_RATINGS, COURSES
from enrollment.adapters.repositories import _Repository
from jijiao_kit.coalescing import CoalescingReader, CoalescingReserver

Doc = dict[str, Any]

SORTS: dict[str, list[tuple[str, int]]] = {
    "code": [("code", ASCENDING)],
    "newest": [("created_at", DESCENDING), ("code", ASCENDING)],
    "best_rated": [("rating_avg", DESCENDING), ("rating_count", DESCENDING), ("code", ASCENDING)],
    "popular": [("taken", DESCENDING), ("code", ASCENDING)],
}


@dataclass(frozen=True)
class CourseQuery:
    """The catalogue filters of §2 (学时类型, 学时区间, 学科, 学段, 学习终端, ...)."""

    programme: str | None = None
    hour_type: str | None = None
    hours_min: float | None = None
    hours_max: float | None = None
    subject: str | None = None
    stage: str | None = None
    terminal: str | None = None
    course_type: str | None = None
    district: str | None = None
    school_id: str | None = None
    text: str | None = None
    codes: list[str] | None = None


class TtlCache:
    """A tiny per-process read cache for documents whose hot-path fields do not change under a
    selection storm (term dates, a course's static fields). Counters are never read from it."""

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl_seconds = ttl_seconds
        self._items: dict[str, tuple[float, Doc]] = {}

    def get(self, key: str) -> Doc | None:
        item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def put(self, key: str, doc: Doc) -> None:
        if len(self._items) > 50_000:
            self._items.clear()
        self._items[key] = (time.monotonic() + self.ttl_seconds, doc)


class CourseRepository(_Repository):
    collection_name = COURSES

    def __init__(self, db: AsyncDatabase[Doc], *, cache_seconds: float = 2.0) -> None:
        super().__init__(db)
        self.cache = TtlCache(cache_seconds)
        # When a popular course's cached copy expires, the hundreds of requests that miss at once
        # share one read (and misses of other courses join it): jijiao_kit.coalescing.
        self._reader = CoalescingReader(self.collection, {"outbox": 0})
        self._reserver = CoalescingReserver(self.collection)

    async def static_by_code(self, term: str, code: str) -> Doc | None:
        """The course for the selection path: static fields may be up to 2 s old; capacity is
        enforced by the conditional $inc, never by this copy."""
        key = f"{term}:{code}"
        doc = self.cache.get(key)
        if doc is None:
            doc = await self._reader.get(key)
            if doc is not None:
                self.cache.put(key, doc)
        return doc

    async def by_code(self, term: str, code: str) -> Doc | None:
        return await self.collection.find_one({"_id": f"{term}:{code}"})

    async def reserve(self, course_key: str, capacity: int | None) -> bool:
        """Take one place: conditional on ``taken`` staying within ``capacity`` so capacity is never
        exceeded; concurrent reservations share one bulk write (jijiao_kit.coalescing)."""
        return await self._reserver.reserve(course_key, capacity)

    async def release(self, course_key: str) -> None:
        await self.collection.update_one({"_id": course_key, "taken": {"$gt": 0}}, {"$inc": {"taken": -1}})

    async def add_rating(self, course_key: str, stars: int) -> None:
        """Count a rating, then set the average computed from that very count: a concurrent rating
        with a higher count sets its own (newer) average, an older one no longer matches."""
        doc = await self.collection.find_one_and_update(
            {"_id": course_key},
            {"$inc": {"rating_sum": stars, "rating_count": 1}},
            projection={"rating_sum": 1, "rating_count": 1},
            return_document=ReturnDocument.AFTER,
        )
        if doc and doc.get("rating_count"):
            average = round(doc["rating_sum"] / doc["rating_count"], 3)
            await self.collection.update_one(
                {"_id": course_key, "rating_count": doc["rating_count"]}, {"$set": {"rating_avg": average}}
            )

    @staticmethod
    def _filter(term: str, query: CourseQuery) -> Doc:
        spec: Doc = {"term": term}
        for field in ("programme", "hour_type", "subject", "stage", "course_type", "district", "school_id"):
            value = getattr(query, field)
            if value is not None:
                spec[field] = value
        hours: Doc = {}
        if query.hours_min is not None:
            hours["$gte"] = query.hours_min
        if query.hours_max is not None:
            hours["$lte"] = query.hours_max
        if hours:
            spec["hours"] = hours
        if query.terminal is not None:
            spec["terminal"] = {"$in": [query.terminal, "all"]}
        if query.text:
            spec["name"] = {"$regex": re.escape(query.text)}
        if query.codes is not None:
            spec["code"] = {"$in": query.codes}
        return spec

    async def search(self, term: str, query: CourseQuery, *, sort: str, skip: int, limit: int) -> tuple[list[Doc], int]:
        spec = self._filter(term, query)
        total = await self.collection.count_documents(spec)
        cursor = self.collection.find(spec).sort(SORTS.get(sort, SORTS["code"])).skip(skip).limit(limit)
        return [doc async for doc in cursor], total

    async def all_of(self, term: str, query: CourseQuery, *, limit: int = 2000) -> list[Doc]:
        cursor = self.collection.find(self._filter(term, query)).sort("code", ASCENDING).limit(limit)
        return [doc async for doc in cursor]


class RatingRepository(_Repository):
    """好评: one rating per term x course x teacher (the ``_id``)."""

    collection_name = COURSE_RATINGS

    async def add_once(self, term: str, code: str, ce_number: str, stars: int, at: Any) -> bool:
        try:
            await self.collection.insert_one(
                {
                    "_id": f"{term}:{code}:{ce_number}",
                    "term": term,
                    "course_code": code,
                    "ce_number": ce_number,
                    "stars": stars,
                    "created_at": at,
                }
            )
        except DuplicateKeyError:
            return False
        return True
