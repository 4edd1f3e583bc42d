"""Group commit (jijiao_kit.coalescing) against the real store: every
caller gets its own outcome, concurrent callers share store commands, reads see finished writes."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from jijiao_kit.coalescing import (
    CoalescingInserter,
    CoalescingReader,
    CoalescingReserver,
    CoalescingUpdater,
    PipelinedRedis,
)

Doc = dict[str, Any]


class CommandCounter(monitoring.CommandListener):
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.counts[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
async def store(infra_urls: Any, name_prefix: str) -> AsyncIterator[tuple[AsyncCollection[Doc], CommandCounter]]:
    counter = CommandCounter()
    client: AsyncMongoClient[Doc] = AsyncMongoClient(infra_urls.mongodb_url, event_listeners=[counter])
    collection = client[f"{name_prefix}_coalescing"][f"c{uuid.uuid4().hex[:6]}"]
    await collection.create_index("active_key", unique=True, sparse=True)
    yield collection, counter
    await client.drop_database(f"{name_prefix}_coalescing")
    await client.close()


async def test_concurrent_reads_each_get_their_own_document_in_few_commands(
    store: tuple[AsyncCollection[Doc], CommandCounter],
) -> None:
    collection, counter = store
    await collection.insert_many([{"_id": f"T{i}", "name": f"教师{i}", "outbox": {"x": 1}} for i in range(100)])
    reader = CoalescingReader(collection, {"outbox": 0})
    counter.counts.clear()
    keys = [f"T{i % 150}" for i in range(300)]  # a third of them do not exist; many repeat
    docs = await asyncio.gather(*(reader.get(key) for key in keys))
    for key, doc in zip(keys, docs, strict=True):
        if int(key[1:]) < 100:
            assert doc == {"_id": key, "name": f"教师{key[1:]}"}
        else:
            assert doc is None
    assert 1 <= counter.counts["find"] <= 10  # 300 reads, a handful of commands
    first, repeated = docs[0], docs[150]
    assert first is not None and repeated is not None
    first["name"] = "changed"  # each caller owns its copy
    assert repeated["name"] == "教师0"


async def test_a_read_sees_every_write_that_finished_before_it(
    store: tuple[AsyncCollection[Doc], CommandCounter],
) -> None:
    collection, _ = store
    reader = CoalescingReader(collection)
    inserter = CoalescingInserter(collection)

    async def write_then_read(index: int) -> Doc | None:
        await inserter.insert({"_id": f"W{index}", "n": index})
        return await reader.get(f"W{index}")

    found = await asyncio.gather(*(write_then_read(i) for i in range(200)))
    assert [doc["n"] if doc else None for doc in found] == list(range(200))


async def test_concurrent_inserts_fail_alone_on_their_own_duplicate_key(
    store: tuple[AsyncCollection[Doc], CommandCounter],
) -> None:
    collection, counter = store
    await collection.insert_one({"_id": "old", "active_key": "k-taken"})
    inserter = CoalescingInserter(collection)
    counter.counts.clear()
    # 100 distinct keys asked twice each (200 racing inserts), plus 10 that collide with a stored one.
    documents = [{"_id": uuid.uuid4().hex, "active_key": f"k{i % 100}"} for i in range(200)]
    documents += [{"_id": uuid.uuid4().hex, "active_key": "k-taken"} for _ in range(10)]

    async def insert(doc: Doc) -> str:
        try:
            await inserter.insert(doc)
        except DuplicateKeyError:
            return "duplicate"
        return "inserted"

    outcomes = await asyncio.gather(*(insert(doc) for doc in documents))
    assert Counter(outcomes) == {"inserted": 100, "duplicate": 110}
    stored = {doc["_id"] async for doc in collection.find({"active_key": {"$ne": "k-taken"}})}
    inserted_ids = {doc["_id"] for doc, outcome in zip(documents, outcomes, strict=True) if outcome == "inserted"}
    assert stored == inserted_ids  # exactly the callers told "inserted" are in the store
    assert counter.counts["insert"] <= 20


async def test_a_failed_command_fails_every_caller_of_that_batch(
    store: tuple[AsyncCollection[Doc], CommandCounter], infra_urls: Any
) -> None:
    collection, _ = store
    closed: AsyncMongoClient[Doc] = AsyncMongoClient(infra_urls.mongodb_url)
    await closed.close()  # every command on it fails
    reader = CoalescingReader(closed[collection.database.name][collection.name])
    results = await asyncio.gather(*(reader.get(f"T{i}") for i in range(20)), return_exceptions=True)
    assert all(isinstance(result, Exception) for result in results)
    good = CoalescingReader(collection)
    assert await good.get("missing") is None


async def test_concurrent_reservations_fill_each_course_exactly_in_few_commands(
    store: tuple[AsyncCollection[Doc], CommandCounter],
) -> None:
    collection, counter = store
    capacities: dict[str, int | None] = {"small": 3, "mid": 40, "big": 500, "free": None, "none": 0}
    await collection.insert_many([{"_id": key, "taken": 0} for key in capacities])
    reserver = CoalescingReserver(collection)
    counter.counts.clear()
    asks = [key for key in capacities for _ in range(60)]  # 60 callers per course, 300 in all
    granted = await asyncio.gather(*(reserver.reserve(key, capacities[key]) for key in asks))
    per_course = Counter(key for key, ok in zip(asks, granted, strict=True) if ok)
    assert per_course == {"small": 3, "mid": 40, "big": 60, "free": 60}
    taken = {doc["_id"]: doc["taken"] async for doc in collection.find({})}
    assert taken == {"small": 3, "mid": 40, "big": 60, "free": 60, "none": 0}
    assert counter.counts["update"] <= 20  # 300 reservations, a handful of bulk writes


async def test_pipelined_redis_gives_each_caller_its_own_reply_and_error(infra_urls: Any, name_prefix: str) -> None:
    from redis.asyncio import Redis
    from redis.exceptions import ResponseError

    redis = Redis.from_url(infra_urls.redis_url, decode_responses=True)
    commands = PipelinedRedis(redis)
    key = f"{name_prefix}:claim"
    await redis.rpush(f"{name_prefix}:list", "x")
    try:
        # 100 concurrent claims of one key: exactly one wins (SET NX stays atomic in a pipeline)
        claims = await asyncio.gather(*(commands.execute("SET", key, str(i), "NX", "EX", 30) for i in range(100)))
        assert sum(1 for claim in claims if claim) == 1
        winner = next(str(i) for i, claim in enumerate(claims) if claim)
        replies = await asyncio.gather(
            commands.execute("GET", key),
            commands.execute("GET", f"{name_prefix}:list"),  # wrong type: this caller alone fails
            commands.execute("GET", f"{name_prefix}:missing"),
            return_exceptions=True,
        )
        assert replies[0] == winner and isinstance(replies[1], ResponseError) and replies[2] is None
    finally:
        await redis.delete(key, f"{name_prefix}:list")
        await redis.aclose()


async def test_a_place_taken_for_a_caller_cancelled_meanwhile_is_given_back(
    store: tuple[AsyncCollection[Doc], CommandCounter],
) -> None:
    """A client that disconnects while its reservation is in the store's queue (its request task is
    cancelled) must not keep a place: the course would otherwise end up short by one per disconnect."""
    collection, _ = store
    await collection.insert_many([{"_id": "limited", "taken": 0}, {"_id": "free", "taken": 0}])
    reserver = CoalescingReserver(collection)
    tasks = [
        asyncio.create_task(reserver.reserve(key, capacity))
        for key, capacity in [("limited", 50), ("free", None)]
        for _ in range(100)
    ]
    for _ in range(3):  # every caller queued, the first command on its way
        await asyncio.sleep(0)
    cancelled = tasks[1::2]
    for task in cancelled:
        task.cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert sum(isinstance(outcome, asyncio.CancelledError) for outcome in outcomes) == len(cancelled)
    kept = Counter(
        key for key, outcome in zip(["limited"] * 100 + ["free"] * 100, outcomes, strict=True) if outcome is True
    )
    assert 0 < kept["limited"] < 50  # some places were granted to callers that were gone by then
    for _ in range(100):
        taken = {doc["_id"]: doc["taken"] async for doc in collection.find({})}
        if taken == {"limited": kept["limited"], "free": kept["free"]}:
            break
        await asyncio.sleep(0.05)
    assert taken == {"limited": kept["limited"], "free": kept["free"]}


async def test_concurrent_conditional_updates_each_learn_their_own_outcome(
    store: tuple[AsyncCollection[Doc], CommandCounter],
) -> None:
    """300 racing "add me once" writes on three documents, 150 distinct members asked twice each: exactly
    the callers told True are stored, counters match the maps, a refused filter creates nothing."""
    collection, counter = store
    await collection.insert_many([{"_id": f"D{i}", "n": 0, "members": {}} for i in range(3)])
    updater = CoalescingUpdater(collection)
    counter.counts.clear()
    asks = [(f"D{i % 3}", f"m{i % 150}") for i in range(300)]
    outcomes = await asyncio.gather(
        *(
            updater.update(
                {"_id": doc, f"members.{member}": {"$exists": False}},
                {"$set": {f"members.{member}": 1}, "$inc": {"n": 1}},
            )
            for doc, member in asks
        )
    )
    stored = {doc["_id"]: doc async for doc in collection.find({})}
    granted = Counter(doc for (doc, _), ok in zip(asks, outcomes, strict=True) if ok)
    assert granted == {"D0": 50, "D1": 50, "D2": 50}
    for key, doc in stored.items():
        assert doc["n"] == len(doc["members"]) == granted[key]
    assert counter.counts["update"] <= 20  # 300 conditional writes, a handful of bulk writes
    assert await updater.update({"_id": "D0", "n": -1}, {"$inc": {"n": 1}}) is False
    assert await collection.count_documents({}) == 3
    with pytest.raises(ValueError):
        await updater.update({"n": 0}, {"$inc": {"n": 1}})


async def test_compare_and_set_through_the_updater_crosses_a_threshold_once(
    store: tuple[AsyncCollection[Doc], CommandCounter],
) -> None:
    """Read, compare-and-set, retry: 100 callers per document, each adding one; the write that moves a
    count from 49 to 50 (and only that one) also records the crossing, as a points fact rides on it."""
    collection, _ = store
    await collection.insert_many([{"_id": f"C{i}", "n": 0, "crossings": 0} for i in range(3)])
    reader = CoalescingReader(collection)
    updater = CoalescingUpdater(collection)

    async def add_one(key: str) -> None:
        while True:
            doc = await reader.get(key)
            assert doc is not None
            inc = {"n": 1, "crossings": 1} if doc["n"] + 1 == 50 else {"n": 1}
            if await updater.update({"_id": key, "n": doc["n"]}, {"$inc": inc}):
                return

    await asyncio.gather(*(add_one(f"C{i % 3}") for i in range(300)))
    assert [(d["n"], d["crossings"]) async for d in collection.find({})] == [(100, 1)] * 3
