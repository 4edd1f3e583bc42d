"""Store forms the hours service relies on beyond tests/store_contract (runnable against any MONGODB_URL):
``$exists: false`` on a map path as a write guard, conditional bulk updates, string ``$lt`` stamps with
upsert, duplicate keys in unordered ``insert_many``, and bare datetimes in ``$set`` (returned as strings
by the embedded store, which is why the service keeps datetimes inside sub-documents or as ISO strings)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from jijiao_kit.mongo import create_client

Doc = dict[str, Any]


@pytest.fixture
async def collection(infra_urls: Any, name_prefix: str) -> AsyncIterator[AsyncCollection[Doc]]:
    client = create_client(infra_urls.mongodb_url)
    yield client[f"{name_prefix}_hours_forms"][f"c{uuid.uuid4().hex[:6]}"]
    await client.close()


async def test_map_key_absence_guards_a_reservation(collection: AsyncCollection[Doc]) -> None:
    await collection.insert_one({"_id": "t:2026", "used": {"g": 0}, "grants": {}})
    guard = {"_id": "t:2026", "grants.k1": {"$exists": False}, "used.g": {"$lte": 10 - 4}}
    first = await collection.update_one(guard, {"$set": {"grants.k1": 4}, "$inc": {"used.g": 4}})
    again = await collection.update_one(guard, {"$set": {"grants.k1": 4}, "$inc": {"used.g": 4}})
    assert (first.modified_count, again.modified_count) == (1, 0)
    missing_group = await collection.update_one(
        {"_id": "t:2026", "used.h": {"$exists": False}}, {"$inc": {"used.h": 2}}
    )
    assert missing_group.modified_count == 1
    doc = await collection.find_one({"_id": "t:2026"})
    assert doc is not None and doc["used"] == {"g": 4, "h": 2} and doc["grants"] == {"k1": 4}


async def test_conditional_bulk_updates_apply_only_where_the_guard_holds(collection: AsyncCollection[Doc]) -> None:
    await collection.insert_many([{"_id": i, "version": 0, "facts": {}} for i in range(3)])
    result = await collection.bulk_write(
        [
            UpdateOne(
                {"_id": i, "version": 0 if i != 1 else 7}, {"$set": {f"facts.f{i}": {"p": i}}, "$inc": {"version": 1}}
            )
            for i in range(3)
        ],
        ordered=False,
    )
    assert result.modified_count == 2
    docs = {doc["_id"]: doc async for doc in collection.find({})}
    assert docs[1]["facts"] == {} and docs[2]["facts"] == {"f2": {"p": 2}}


async def test_string_stamps_move_forward_only(collection: AsyncCollection[Doc]) -> None:
    async def apply(stamp: str, school: str) -> None:
        try:
            await collection.bulk_write(
                [
                    UpdateOne(
                        {"_id": "ce", "$or": [{"p_as_of": {"$lt": stamp}}, {"p_as_of": {"$exists": False}}]},
                        {"$set": {"school": school, "p_as_of": stamp}},
                        upsert=True,
                    )
                ],
                ordered=True,
            )
        except BulkWriteError as exc:
            assert exc.details["writeErrors"][0]["code"] == 11000

    await apply("2026-03-03T00:00:00.000000+00:00", "new")
    await apply("2026-03-01T00:00:00.000000+00:00", "old")
    assert (await collection.find_one({"_id": "ce"}) or {})["school"] == "new"


async def test_unordered_insert_many_reports_duplicates_and_inserts_the_rest(collection: AsyncCollection[Doc]) -> None:
    await collection.insert_one({"_id": "a"})
    with pytest.raises(BulkWriteError) as error:
        await collection.insert_many([{"_id": "a"}, {"_id": "b"}], ordered=False)
    assert {e["code"] for e in error.value.details["writeErrors"]} == {11000}
    assert await collection.count_documents({}) == 2


async def test_datetimes_survive_inside_sub_documents(collection: AsyncCollection[Doc]) -> None:
    at = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    await collection.insert_one({"_id": 1, "m": {}})
    await collection.update_one({"_id": 1}, {"$set": {"m.k": {"at": at}}})
    doc = await collection.find_one({"_id": 1})
    assert doc is not None and isinstance(doc["m"]["k"]["at"], datetime)
