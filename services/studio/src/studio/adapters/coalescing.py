"""Group commit for the check-in storm (and every other read on the same paths): concurrent reads and
inserts become one store command each while the previous one is in flight.

Why: the embedded store executes one command at a time and its per-command cost dominates (about 2,000
single commands/s against ~7,000 documents/s in ``insert_many`` and ~16,000 in ``find $in``,
docs/DEVELOPING.md "Hot paths"). When hundreds of members scan one activity's QR code at once, each
check-in needs the studio, the caller's membership, the open recruitments, the activity and one insert;
one command can serve all of the callers waiting at that moment.

The same technique as enrollment's ``adapters/coalescing.py`` (services share no code but the kit, so
this is studio's own copy of the small core). No timers: a call made while the store is idle goes out at
once, alone; calls made while a command is running wait for it and go out together in the next one. A
caller therefore sees every write that finished before it called. Each caller gets its own outcome (a
deep copy of its document, or for inserts success or the error of its own document)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError, WriteError

Doc = dict[str, Any]
Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


class _Coalescer(Generic[Item, Outcome]):
    """Queue items; one drain task sends everything queued as one batch, repeatedly, until empty."""

    def __init__(self, max_batch: int) -> None:
        self.max_batch = max_batch
        self._queue: list[tuple[Item, asyncio.Future[Outcome]]] = []
        self._drain: asyncio.Task[None] | None = None

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
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():  # the caller went away; reads and an idempotent insert need no undo
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    async def _send(self, items: list[Item]) -> list[Any]:
        raise NotImplementedError


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
    """``get(_id)`` for many concurrent callers as one ``find({"_id": {"$in": [...]}})``."""
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


def _single_error(write_error: Doc) -> BaseException:
    make: Callable[..., BaseException] = DuplicateKeyError if write_error.get("code") == 11000 else WriteError
    return make(write_error.get("errmsg", "write error"), write_error.get("code"), write_error)
