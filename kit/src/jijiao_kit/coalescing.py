"""Group commit for request paths that many callers hit at once (enrollment's selection storm, studio's
check-in storm): concurrent reads, inserts, conditional counters and Redis commands become one store (or
Redis) command each while the previous one is in flight.

Why: the embedded store executes one command at a time, and its per-command cost dominates (about
2,000 single commands/s against ~7,000 documents/s in ``insert_many`` and ~16,000 in ``find $in``). Under
a selection storm hundreds of requests wait at once, so one command can serve all of them.

No timers: a call made while the store is idle goes out at once, alone; calls made while a command is
running wait for it and go out together in the next one. A caller therefore always sees every write
that finished before it called (the next command starts after its call). Each caller gets its own
outcome: a found/missing document, or for inserts either success or the exception of its own document
(a duplicate key is a ``DuplicateKeyError`` for that document only)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError, WriteError
from redis.asyncio import Redis

Doc = dict[str, Any]
Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


class _Coalescer(Generic[Item, Outcome]):
    """Queue items; one drain task sends everything queued as one batch, repeatedly, until empty."""

    def __init__(self, max_batch: int) -> None:
        self.max_batch = max_batch
        self._queue: list[tuple[Item, asyncio.Future[Outcome]]] = []
        self._drain: asyncio.Task[None] | None = None
        self._undoing: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> Outcome:
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._drain is None or self._drain.done():
            self._drain = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            try:
                outcomes = await self._send([item for item, _ in batch])
            except BaseException as error:  # the whole command failed: every caller learns it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                if isinstance(error, asyncio.CancelledError):
                    raise
                continue
            for (item, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():  # the caller went away (cancelled): nobody will act on its outcome
                    if not isinstance(outcome, BaseException):
                        self._abandon(item, outcome)
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    async def _send(self, items: list[Item]) -> list[Any]:
        raise NotImplementedError

    async def _undo(self, item: Item, outcome: Outcome) -> None:
        """Take back the effect of a successful item whose caller was cancelled before it learned
        the outcome (a disconnected client). Reads need nothing; writes that must not outlive their
        caller say how."""

    def _abandon(self, item: Item, outcome: Outcome) -> None:
        task = asyncio.create_task(self._undo(item, outcome))
        self._undoing.add(task)  # keep a reference until it is done
        task.add_done_callback(self._undoing.discard)


class CoalescingReader(_Coalescer[str, Doc | None]):
    """``get(_id)`` for many concurrent callers as one ``find({"_id": {"$in": [...]}})``."""

    def __init__(self, collection: AsyncCollection[Doc], projection: Doc | None = None, max_batch: int = 500) -> None:
        super().__init__(max_batch)
        self.collection = collection
        self.projection = projection

    async def get(self, key: str) -> Doc | None:
        return await self.submit(key)

    async def _send(self, items: list[str]) -> list[Any]:
        wanted = sorted(set(items))
        found = {doc["_id"]: doc async for doc in self.collection.find({"_id": {"$in": wanted}}, self.projection)}
        # Every caller gets its own copy: a caller that changes its document changes nobody else's.
        return [dict(found[key]) if key in found else None for key in items]


class CoalescingQuery(_Coalescer[Hashable, list[Doc]]):
    """Many concurrent queries of one shape as one ``find``: ``widen`` turns the distinct keys of a batch
    into one filter that matches at least every document any of them wants, and ``wants(key, doc)``
    picks each caller's documents from the result (so the widened filter never leaks into an answer)."""

    def __init__(
        self,
        collection: AsyncCollection[Doc],
        widen: Callable[[list[Any]], Doc],
        wants: Callable[[Any, Doc], bool],
        projection: Doc | None = None,
        max_batch: int = 500,
    ) -> None:
        super().__init__(max_batch)
        self.collection = collection
        self.widen = widen
        self.wants = wants
        self.projection = projection

    async def find(self, key: Hashable) -> list[Doc]:
        return await self.submit(key)

    async def _send(self, items: list[Hashable]) -> list[Any]:
        keys = list(dict.fromkeys(items))
        docs = [doc async for doc in self.collection.find(self.widen(keys), self.projection)]
        answers = {key: [doc for doc in docs if self.wants(key, doc)] for key in keys}
        # Every caller gets its own copy: a caller that changes its document changes nobody else's.
        return [copy.deepcopy(answers[key]) for key in items]


def by_id(collection: AsyncCollection[Doc], projection: Doc | None = None) -> CoalescingQuery:
    """``find(_id)`` (a list of at most one document) for many concurrent callers as one
    ``find({"_id": {"$in": [...]}})``; each caller's documents are its own deep copies."""
    return CoalescingQuery(
        collection, lambda keys: {"_id": {"$in": keys}}, lambda key, doc: doc["_id"] == key, projection
    )


class CoalescingInserter(_Coalescer[Doc, None]):
    """``insert(doc)`` for many concurrent callers as one unordered ``insert_many``; a document the
    store refuses fails alone (``DuplicateKeyError`` for a unique index), the others are written."""

    def __init__(self, collection: AsyncCollection[Doc], max_batch: int = 500) -> None:
        super().__init__(max_batch)
        self.collection = collection

    async def insert(self, document: Doc) -> None:
        await self.submit(document)

    async def _send(self, items: list[Doc]) -> list[Any]:
        outcomes: list[BaseException | None] = [None] * len(items)
        try:
            await self.collection.insert_many(items, ordered=False)
        except BulkWriteError as error:
            for write_error in error.details.get("writeErrors", []):
                outcomes[write_error["index"]] = _single_error(write_error)
        return outcomes


class CoalescingReserver(_Coalescer[tuple[str, int | None], bool]):
    """``reserve(course_key, capacity)`` (take one place, never past the capacity) for many concurrent
    callers as one unordered ``bulk_write``, one conditional ``$inc`` per course for all its callers.

    Each caller must learn whether *its* place was taken, and a bulk write only reports counts, so a
    conditional increment that does not match is made to fail visibly: it is an upsert on the
    course's ``_id``, whose insert then hits the ``_id`` index (error 11000, reported with the
    operation's index). A course whose callers did not all fit is retried one place per caller, so
    the last places of a course go to exactly as many callers as there are places. Courses are never
    deleted, so the upsert never creates one. An unlimited course (capacity None) only counts."""

    def __init__(self, collection: AsyncCollection[Doc], max_batch: int = 500) -> None:
        super().__init__(max_batch)
        self.collection = collection

    async def reserve(self, course_key: str, capacity: int | None) -> bool:
        return await self.submit((course_key, capacity))

    async def _send(self, items: list[tuple[str, int | None]]) -> list[Any]:
        callers: dict[tuple[str, int | None], list[int]] = {}
        for index, item in enumerate(items):
            callers.setdefault(item, []).append(index)
        courses = list(callers)
        refused = await self._increment([(key, capacity, len(callers[(key, capacity)])) for key, capacity in courses])
        taken = [False] * len(items)
        one_by_one: list[tuple[tuple[str, int | None], int]] = []
        for position, course in enumerate(courses):
            if position not in refused:
                for index in callers[course]:
                    taken[index] = True
            elif len(callers[course]) > 1:
                one_by_one.extend((course, index) for index in callers[course])
        if one_by_one:
            refused = await self._increment([(key, capacity, 1) for (key, capacity), _ in one_by_one])
            for position, (_, index) in enumerate(one_by_one):
                taken[index] = position not in refused
        return taken

    async def _undo(self, item: tuple[str, int | None], outcome: bool) -> None:
        """A place taken for a caller that was cancelled meanwhile: no selection will use it, so give
        it back (else every disconnected client of a storm would leave a course one place short)."""
        if outcome:
            await self.collection.update_one({"_id": item[0], "taken": {"$gt": 0}}, {"$inc": {"taken": -1}})

    async def _increment(self, places: list[tuple[str, int | None, int]]) -> set[int]:
        """Positions of the increments that did not fit."""
        requests = [
            UpdateOne({"_id": key, "taken": {"$lte": capacity - count}}, {"$inc": {"taken": count}}, upsert=True)
            if capacity is not None
            else UpdateOne({"_id": key}, {"$inc": {"taken": count}})
            for key, capacity, count in places
        ]
        try:
            await self.collection.bulk_write(requests, ordered=False)
        except BulkWriteError as error:
            write_errors = error.details.get("writeErrors", [])
            if any(write_error.get("code") != 11000 for write_error in write_errors):
                raise  # unknown outcome: callers get the error and keep no place (a lost place is safe)
            return {write_error["index"] for write_error in write_errors}
        return set()


class CoalescingUpdater(_Coalescer[tuple[Doc, Doc], bool]):
    """``update(filter, update)``: a conditional single-document update (a compare-and-set, a counter
    under a condition) for many concurrent callers as one unordered ``bulk_write``; each caller learns
    whether *its* filter matched (True: its update was applied, atomically on its own, as with
    ``update_one``).

    A bulk write only reports counts, so each update is an upsert on the filter's ``_id`` (which every
    filter must name by equality, of a document that exists and is never deleted): a filter that does
    not match tries to insert that ``_id`` and fails visibly (error 11000 at the operation's index).
    Several updates of one document in a batch each see the others' effects (the store applies them
    one at a time), as when sent alone. Never put ``$or`` in a filter (DEVELOPING.md). An error other
    than 11000 reaches every caller of its batch: their outcome is unknown, as with a failed
    ``update_one``. Nothing is undone for a caller cancelled meanwhile: its update stands, as a sent
    ``update_one`` whose answer nobody reads."""

    def __init__(self, collection: AsyncCollection[Doc], max_batch: int = 500) -> None:
        super().__init__(max_batch)
        self.collection = collection

    async def update(self, filter: Doc, update: Doc) -> bool:
        if "_id" not in filter or isinstance(filter["_id"], dict) or "$or" in filter:
            raise ValueError("a coalesced update names its document by _id equality, without $or")
        return await self.submit((filter, update))

    async def _send(self, items: list[tuple[Doc, Doc]]) -> list[Any]:
        requests = [UpdateOne(filter, update, upsert=True) for filter, update in items]
        try:
            await self.collection.bulk_write(requests, ordered=False)
        except BulkWriteError as error:
            write_errors = error.details.get("writeErrors", [])
            if any(write_error.get("code") != 11000 for write_error in write_errors):
                raise
            refused = {write_error["index"] for write_error in write_errors}
            return [index not in refused for index in range(len(items))]
        return [True] * len(items)


class PipelinedRedis(_Coalescer[tuple[Any, ...], Any]):
    """Redis commands of many concurrent callers sent as one pipeline (no MULTI: each command stays
    atomic on its own, as when sent alone); each caller gets its own reply or its own error. One
    round trip and one pooled connection instead of one per command: the Idempotency-Key claims and
    outcomes of a selection storm were about a sixth of the API's CPU."""

    def __init__(self, redis: Redis, max_batch: int = 500) -> None:
        super().__init__(max_batch)
        self.redis = redis

    async def execute(self, *command: Any) -> Any:
        return await self.submit(command)

    async def _send(self, items: list[tuple[Any, ...]]) -> list[Any]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for command in items:
                pipe.execute_command(*command)
            replies: list[Any] = await pipe.execute(raise_on_error=False)
        return replies


def _single_error(write_error: Doc) -> BaseException:
    make: Callable[..., BaseException] = DuplicateKeyError if write_error.get("code") == 11000 else WriteError
    return make(write_error.get("errmsg", "write error"), write_error.get("code"), write_error)
