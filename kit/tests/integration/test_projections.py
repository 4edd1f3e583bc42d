"""The per-part projection on the real store: each part moves forward only, in the single and the bulk
form alike; any order of the same changes ends in the same document; a write never touches another
document; a document without stamps takes changes; concurrent writers keep the newest state."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.collection import AsyncCollection

from jijiao_kit.mongo import create_client
from jijiao_kit.projections import Change, TeacherDirectory, upsert_newer, upsert_newer_many
from jijiao_stack.teacher_events import EXPECTED_TEACHER, TEACHER_HISTORY, orders

Doc = dict[str, Any]
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
async def collection(infra_urls: Any, name_prefix: str) -> AsyncIterator[AsyncCollection[Doc]]:
    client = create_client(infra_urls.mongodb_url)
    yield client[f"{name_prefix}_projections"][f"c{uuid.uuid4().hex[:6]}"]
    await client.close()


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


CHANGES = [
    Change("k", {"name": "甲"}, at(1), "profile"),
    Change("k", {"school_id": "s1"}, at(1), "school"),
    Change("k", {"school_id": "s2"}, at(3), "school"),
    Change("k", {"name": "乙"}, at(2), "profile"),
    Change("k", {"active": False}, at(4), "status"),
    Change("k", {"active": True}, at(1), "status"),
]
EXPECTED = {"name": "乙", "school_id": "s2", "active": False}


async def read(collection: AsyncCollection[Doc], key: str = "k") -> Doc:
    doc = await collection.find_one({"_id": key}, {"_id": 0}) or {}
    return {name: value for name, value in doc.items() if not name.endswith("as_of_ms")}


async def test_every_order_of_single_writes_ends_in_the_same_document(collection: AsyncCollection[Doc]) -> None:
    for n, order in enumerate(itertools.permutations(CHANGES)):
        if n % 37:  # a spread of the 720 orders
            continue
        await collection.delete_many({})
        for change in order:
            await upsert_newer(collection, change.key, change.fields, change.as_of, part=change.part)
        assert await read(collection) == EXPECTED, order


async def test_bulk_writes_in_any_split_end_where_single_writes_do(collection: AsyncCollection[Doc]) -> None:
    rng = random.Random(7)
    for _ in range(12):
        await collection.delete_many({})
        order = rng.sample(CHANGES, len(CHANGES))
        cut = rng.randrange(len(order) + 1)
        await upsert_newer_many(collection, order[:cut])
        await upsert_newer_many(collection, order[cut:])
        await upsert_newer_many(collection, order)  # a redelivery of everything changes nothing
        assert await read(collection) == EXPECTED, (order, cut)


async def test_a_part_holds_its_newest_state_and_returns_whether_it_wrote(collection: AsyncCollection[Doc]) -> None:
    assert await upsert_newer(collection, "k", {"name": "new"}, at(2), part="profile")
    assert not await upsert_newer(collection, "k", {"name": "old"}, at(1), part="profile")
    assert not await upsert_newer(collection, "k", {"name": "same"}, at(2), part="profile")
    assert await upsert_newer(collection, "k", {"school_id": "s1"}, at(1), part="school")  # its own stamp
    doc = await collection.find_one({"_id": "k"}) or {}
    assert (doc["name"], doc["school_id"]) == ("new", "s1")
    assert doc["profile_as_of_ms"] > doc["school_as_of_ms"]


async def test_bulk_never_touches_another_document_and_takes_unstamped_ones(collection: AsyncCollection[Doc]) -> None:
    await collection.insert_many(
        [{"_id": "unstamped", "name": "旧"}, {"_id": "stamped", "name": "丙", "profile_as_of_ms": 1}]
    )
    await upsert_newer_many(
        collection,
        [
            Change("unstamped", {"name": "甲"}, at(1), "profile"),
            Change("unstamped", {"school_id": "s1"}, at(1), "school"),
            Change("new", {"name": "乙"}, at(1), "profile"),
            Change("new", {"school_id": "s2"}, at(1), "school"),
        ],
    )
    docs = {doc["_id"]: doc async for doc in collection.find({})}
    assert set(docs) == {"unstamped", "stamped", "new"}
    assert (docs["unstamped"]["name"], docs["unstamped"]["school_id"]) == ("甲", "s1")
    assert (docs["new"]["name"], docs["new"]["school_id"]) == ("乙", "s2")
    assert docs["stamped"] == {"_id": "stamped", "name": "丙", "profile_as_of_ms": 1}


async def test_concurrent_single_and_bulk_writers_keep_the_newest(collection: AsyncCollection[Doc]) -> None:
    minutes = list(range(30))
    random.Random(3).shuffle(minutes)
    singles = [upsert_newer(collection, "k", {"n": m}, at(m), part="p") for m in minutes[:15]]
    bulks = [upsert_newer_many(collection, [Change("k", {"n": m}, at(m), "p")]) for m in minutes[15:]]
    await asyncio.gather(*singles, *bulks)
    assert (await collection.find_one({"_id": "k"}) or {})["n"] == 29


async def test_the_teacher_directory_is_the_same_in_any_order_single_or_bulk(collection: AsyncCollection[Doc]) -> None:
    directory = TeacherDirectory(collection)
    for order in orders(TEACHER_HISTORY):
        await collection.delete_many({})
        for envelope in order:
            await directory.apply(envelope)
        one_by_one = await read(collection, EXPECTED_TEACHER["ce_number"])
        await collection.delete_many({})
        await directory.apply_many(order)
        assert await read(collection, EXPECTED_TEACHER["ce_number"]) == one_by_one
        assert one_by_one == {name: EXPECTED_TEACHER[name] for name in one_by_one}
        assert set(one_by_one) == set(EXPECTED_TEACHER) - {"ce_number", "mobile", "email"}
