"""Store contract: every query and update form the code relies on, against whatever store
``MONGODB_URL`` names (the embedded nx-27017 by default). Moving to a real MongoDB is one run of this
module away. The known gaps of nx-27017 0.8.1 are pinned too, so we notice when they change."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, OperationFailure

from jijiao_kit.mongo import create_client
from jijiao_kit.projections import upsert_newer

Doc = dict[str, Any]


@pytest.fixture
async def collection(infra_urls: Any, name_prefix: str) -> AsyncIterator[AsyncCollection[Doc]]:
    client = create_client(infra_urls.mongodb_url)
    yield client[f"{name_prefix}_store"][f"c{uuid.uuid4().hex[:6]}"]
    await client.close()


async def test_unique_index_refuses_a_second_document(collection: AsyncCollection[Doc]) -> None:
    await collection.create_index([("term", 1), ("ce", 1), ("course", 1)], unique=True)
    await collection.insert_one({"term": "2602", "ce": "1", "course": "A"})
    with pytest.raises(DuplicateKeyError):
        await collection.insert_one({"term": "2602", "ce": "1", "course": "A"})
    await collection.insert_one({"term": "2602", "ce": "1", "course": "B"})
    assert await collection.count_documents({}) == 2


async def test_sparse_unique_index_allows_many_missing_keys(collection: AsyncCollection[Doc]) -> None:
    await collection.create_index("active_key", unique=True, sparse=True)
    await collection.insert_many([{"n": 1}, {"n": 2}, {"active_key": "k"}])
    with pytest.raises(DuplicateKeyError):
        await collection.insert_one({"active_key": "k"})
    await collection.update_one({"active_key": "k"}, {"$unset": {"active_key": ""}})
    await collection.insert_one({"active_key": "k"})  # freed by the $unset
    assert await collection.count_documents({}) == 4


async def test_conditional_increment_never_passes_the_cap_under_concurrency(collection: AsyncCollection[Doc]) -> None:
    await collection.insert_one({"_id": "course", "taken": 0, "capacity": 50})

    async def take() -> int:
        result = await collection.update_one({"_id": "course", "taken": {"$lt": 50}}, {"$inc": {"taken": 1}})
        return result.modified_count

    assert sum(await asyncio.gather(*(take() for _ in range(200)))) == 50
    assert (await collection.find_one({"_id": "course"}) or {})["taken"] == 50


async def test_find_one_and_update_upsert_counter_gives_distinct_numbers(collection: AsyncCollection[Doc]) -> None:
    async def next_value() -> int:
        doc = await collection.find_one_and_update(
            {"_id": "seq"}, {"$inc": {"value": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        return int((doc or {})["value"])

    values = await asyncio.gather(*(next_value() for _ in range(100)))
    assert sorted(values) == list(range(1, 101))


async def test_outbox_map_set_exists_unset_and_counter(collection: AsyncCollection[Doc]) -> None:
    """The outbox forms: $set of outbox.<id>, $exists on it, conditional $unset with $inc."""
    await collection.insert_one({"_id": 1, "outbox": {"a": {"seq": 1, "body": "{}"}}, "outbox_pending": 1})
    await collection.update_one(
        {"_id": 1}, {"$set": {"state": "x", "outbox.b": {"seq": 2, "body": "{}"}}, "$inc": {"outbox_pending": 1}}
    )
    doc = await collection.find_one({"_id": 1}) or {}
    assert set(doc["outbox"]) == {"a", "b"} and doc["outbox_pending"] == 2
    assert isinstance(doc["outbox"]["b"], dict)
    cleanup = UpdateOne(
        {"_id": 1, "outbox.a": {"$exists": True}}, {"$unset": {"outbox.a": ""}, "$inc": {"outbox_pending": -1}}
    )
    first = await collection.bulk_write([cleanup], ordered=False)
    second = await collection.bulk_write([cleanup], ordered=False)
    assert (first.modified_count, second.modified_count) == (1, 0)
    doc = await collection.find_one({"outbox_pending": {"$gt": 0}}) or {}
    assert list(doc["outbox"]) == ["b"] and doc["outbox_pending"] == 1


async def test_outbox_set_creates_the_map_on_a_document_without_one(collection: AsyncCollection[Doc]) -> None:
    await collection.insert_one({"_id": 2})
    await collection.update_one({"_id": 2}, {"$set": {"outbox.e1": {"seq": 1}}, "$inc": {"outbox_pending": 1}})
    doc = await collection.find_one({"_id": 2}) or {}
    assert doc["outbox"] == {"e1": {"seq": 1}} and doc["outbox_pending"] == 1


async def test_upsert_newer_moves_only_forward(collection: AsyncCollection[Doc]) -> None:
    now = datetime.now(UTC)
    assert await upsert_newer(collection, "t1", {"name": "new"}, now)
    assert not await upsert_newer(collection, "t1", {"name": "old"}, now - timedelta(minutes=1))
    assert not await upsert_newer(collection, "t1", {"name": "same"}, now)
    assert (await collection.find_one({"_id": "t1"}) or {})["name"] == "new"
    assert await upsert_newer(collection, "t1", {"name": "newer"}, now + timedelta(minutes=1))
    assert (await collection.find_one({"_id": "t1"}) or {})["name"] == "newer"


async def test_upsert_newer_never_touches_another_document(collection: AsyncCollection[Doc]) -> None:
    """A copy written without a stamp (by another path) must not attract another key's write."""
    now = datetime.now(UTC)
    await collection.insert_many([{"_id": "unstamped", "name": "甲"}, {"_id": "stamped", "name": "丙", "as_of_ms": 1}])
    assert await upsert_newer(collection, "new", {"name": "乙"}, now)
    names = {doc["_id"]: doc["name"] async for doc in collection.find({})}
    assert names == {"unstamped": "甲", "stamped": "丙", "new": "乙"}
    assert await upsert_newer(collection, "unstamped", {"name": "甲2"}, now)  # its own write stamps it
    assert not await upsert_newer(collection, "unstamped", {"name": "旧"}, now - timedelta(seconds=1))
    assert (await collection.find_one({"_id": "unstamped"}) or {})["name"] == "甲2"


async def test_upsert_newer_keeps_the_newest_of_concurrent_writes(collection: AsyncCollection[Doc]) -> None:
    base = datetime(2026, 11, 22, tzinfo=UTC)
    stamps = list(range(60))
    random.Random(7).shuffle(stamps)
    await asyncio.gather(
        *(upsert_newer(collection, "k", {"name": f"v{n}"}, base + timedelta(seconds=n)) for n in stamps)
    )
    assert (await collection.find_one({"_id": "k"}) or {})["name"] == "v59"
    assert await collection.count_documents({}) == 1


async def test_known_gap_or_next_to_id_with_exists_false_matches_another_document(
    collection: AsyncCollection[Doc],
) -> None:
    """nx-27017 0.8.1: an upsert with ``{"_id": k, "$or": [..., {"f": {"$exists": False}}]}`` updates a
    *different* document lacking ``f``. Never use ``$or`` in an upsert's filter (kit.projections avoids
    it; reads and plain updates with ``$or`` behave)."""
    await collection.insert_one({"_id": "A", "name": "甲"})
    await collection.update_one(
        {"_id": "B", "$or": [{"as_of_ms": {"$lt": 10}}, {"as_of_ms": {"$exists": False}}]},
        {"$set": {"name": "乙", "as_of_ms": 10}},
        upsert=True,
    )
    wrong = (await collection.find_one({"_id": "A"}) or {}).get("name") == "乙"
    embedded = "version" not in await collection.database.client.server_info()  # nx-27017 reports none
    if embedded:
        assert wrong, "nx-27017 fixed the $or-next-to-_id gap: update DEVELOPING.md"
    else:
        assert not wrong


async def test_comparisons_in_or_regex_and_elem_match(collection: AsyncCollection[Doc]) -> None:
    now = datetime.now(UTC)
    await collection.insert_many(
        [
            {"_id": "a", "n": 1, "at": now - timedelta(hours=1), "tags": ["x"], "items": [{"k": 1, "ok": False}]},
            {"_id": "b", "n": 5, "at": now + timedelta(hours=1), "tags": ["y"], "items": [{"k": 2, "ok": True}]},
        ]
    )
    assert [d["_id"] async for d in collection.find({"n": {"$gt": 2}})] == ["b"]
    assert [d["_id"] async for d in collection.find({"at": {"$lt": now}})] == ["a"]
    assert [d["_id"] async for d in collection.find({"_id": {"$in": ["b", "z"]}})] == ["b"]
    assert [d["_id"] async for d in collection.find({"$or": [{"n": 1}, {"n": 9}]})] == ["a"]
    assert [d["_id"] async for d in collection.find({"_id": {"$regex": "^b"}})] == ["b"]
    assert [d["_id"] async for d in collection.find({"items": {"$elemMatch": {"ok": True}}})] == ["b"]
    assert await collection.count_documents({"tags": "x"}) == 1


async def test_positional_update_of_an_existing_array_item(collection: AsyncCollection[Doc]) -> None:
    await collection.insert_one({"_id": 1, "items": [{"k": 1, "v": 0}, {"k": 2, "v": 0}]})
    await collection.update_one({"_id": 1, "items.k": 2}, {"$set": {"items.$.v": 5}})
    assert (await collection.find_one({"_id": 1}) or {})["items"] == [{"k": 1, "v": 0}, {"k": 2, "v": 5}]


async def test_push_of_scalars_and_set_of_whole_arrays(collection: AsyncCollection[Doc]) -> None:
    await collection.insert_one({"_id": 1, "tags": []})
    await collection.update_one({"_id": 1}, {"$push": {"tags": "a"}})
    await collection.update_one({"_id": 1}, {"$set": {"items": [{"k": 1}, {"k": 2}]}})
    doc = await collection.find_one({"_id": 1}) or {}
    assert doc["tags"] == ["a"] and doc["items"] == [{"k": 1}, {"k": 2}]


async def test_group_sum_aggregation(collection: AsyncCollection[Doc]) -> None:
    await collection.insert_many([{"d": "天河区", "h": 2}, {"d": "天河区", "h": 3}, {"d": "越秀区", "h": 4}])
    rows = [row async for row in await collection.aggregate([{"$group": {"_id": "$d", "hours": {"$sum": "$h"}}}])]
    assert {row["_id"]: row["hours"] for row in rows} == {"天河区": 5, "越秀区": 4}


async def test_known_gap_push_of_subdocuments(collection: AsyncCollection[Doc], infra_urls: Any) -> None:
    """nx-27017 0.8.1 stores sub-documents pushed into an array as JSON strings; the code never does
    this (maps keyed by id instead). On a real MongoDB the items stay documents."""
    await collection.insert_one({"_id": 1, "items": [{"k": 1}]})
    await collection.update_one({"_id": 1}, {"$push": {"items": {"k": 2}}})
    items = (await collection.find_one({"_id": 1}) or {})["items"]
    assert items == [{"k": 1}, {"k": 2}] or all(isinstance(item, str) for item in items)


async def test_upsert_newer_keeps_moving_forward_over_many_updates(collection: AsyncCollection[Doc]) -> None:
    start = datetime.now(UTC)
    for minute in range(5):
        assert await upsert_newer(collection, "t2", {"n": minute}, start + timedelta(minutes=minute))
    assert not await upsert_newer(collection, "t2", {"n": -1}, start)
    assert (await collection.find_one({"_id": "t2"}) or {})["n"] == 4


async def test_times_read_back_through_as_utc_whatever_form_the_store_kept(collection: AsyncCollection[Doc]) -> None:
    """nx-27017 keeps a $set datetime as a naive string; as_utc makes either form the same instant."""
    from jijiao_kit.timeutil import as_utc

    moment = datetime(2026, 11, 22, 11, 3, 6, 279000, tzinfo=UTC)
    await collection.insert_one({"_id": 1, "inserted": moment})
    await collection.update_one({"_id": 1}, {"$set": {"updated": moment}})
    doc = await collection.find_one({"_id": 1}) or {}
    assert as_utc(doc["inserted"]) == moment
    assert as_utc(doc["updated"]) == moment


async def test_ne_true_matches_missing_and_false_and_exists_false_matches_missing(
    collection: AsyncCollection[Doc],
) -> None:
    await collection.insert_many([{"_id": "missing"}, {"_id": "no", "paid": False}, {"_id": "yes", "paid": True}])
    assert sorted([d["_id"] async for d in collection.find({"paid": {"$ne": True}})]) == ["missing", "no"]
    assert [d["_id"] async for d in collection.find({"paid": {"$exists": False}})] == ["missing"]


async def test_booleans_written_by_set_read_back_truthy(collection: AsyncCollection[Doc]) -> None:
    """nx-27017 may return a $set True as 1: code reads flags with bool(...) and queries with True."""
    await collection.insert_one({"_id": 1, "paid": False})
    await collection.update_one({"_id": 1}, {"$set": {"paid": True}})
    doc = await collection.find_one({"_id": 1}) or {}
    assert bool(doc["paid"]) is True
    assert await collection.count_documents({"paid": True}) == 1
    assert await collection.count_documents({"paid": {"$ne": True}}) == 0


async def test_set_on_insert_with_upsert(collection: AsyncCollection[Doc]) -> None:
    """update_one applies $setOnInsert on an upsert. nx-27017 0.8.1 ignores it in find_one_and_update
    (the document gets only its _id), so the code upserts with update_one and reads separately."""
    await collection.update_one({"_id": "a"}, {"$setOnInsert": {"n": 1}}, upsert=True)
    assert (await collection.find_one({"_id": "a"}) or {}).get("n") == 1
    await collection.find_one_and_update({"_id": "b"}, {"$setOnInsert": {"n": 1}}, upsert=True)
    assert (await collection.find_one({"_id": "b"}) or {}).get("n") in (1, None)


async def test_bulk_conditional_updates_and_upserts(collection: AsyncCollection[Doc]) -> None:
    await collection.insert_many([{"_id": 1, "status": "pending", "n": 0}, {"_id": 2, "status": "sent", "n": 0}])
    result = await collection.bulk_write(
        [
            UpdateOne({"_id": 1, "status": "pending"}, {"$set": {"status": "sent"}, "$inc": {"n": 1}}),
            UpdateOne({"_id": 2, "status": "pending"}, {"$set": {"status": "sent"}, "$inc": {"n": 1}}),
            UpdateOne({"_id": 3}, {"$setOnInsert": {"status": "new"}, "$inc": {"n": 1}}, upsert=True),
        ],
        ordered=False,
    )
    assert (result.modified_count, result.upserted_count) == (1, 1)
    docs = {d["_id"]: d async for d in collection.find({})}
    assert (docs[1]["n"], docs[2]["n"], docs[3]["status"], docs[3]["n"]) == (1, 0, "new", 1)


async def test_insert_many_unordered_reports_duplicates_and_inserts_the_rest(collection: AsyncCollection[Doc]) -> None:
    from pymongo.errors import BulkWriteError

    await collection.insert_one({"_id": "a"})
    with pytest.raises(BulkWriteError) as caught:
        await collection.insert_many([{"_id": "a"}, {"_id": "b"}, {"_id": "c"}], ordered=False)
    errors = caught.value.details["writeErrors"]
    assert [(e["index"], e["code"]) for e in errors] == [(0, 11000)]
    assert await collection.count_documents({}) == 3


async def test_insert_many_unordered_reports_a_repeated_id_within_one_batch_by_index(
    collection: AsyncCollection[Doc],
) -> None:
    """Studio's check-in group commit: one member scanning twice lands twice in one batch; the second
    document fails alone (11000 at its index), the first and the others are written."""
    from pymongo.errors import BulkWriteError

    with pytest.raises(BulkWriteError) as caught:
        await collection.insert_many([{"_id": "a"}, {"_id": "b"}, {"_id": "a"}, {"_id": "c"}], ordered=False)
    errors = caught.value.details["writeErrors"]
    assert [(e["index"], e["code"]) for e in errors] == [(2, 11000)]
    assert sorted([doc["_id"] async for doc in collection.find({}, {"_id": 1})]) == ["a", "b", "c"]


async def test_insert_many_unordered_reports_each_secondary_unique_violation_by_index(
    collection: AsyncCollection[Doc],
) -> None:
    """The selection group commit maps each refused document back to its caller by index."""
    from pymongo.errors import BulkWriteError

    await collection.create_index("active_key", unique=True, sparse=True)
    await collection.insert_one({"_id": "x", "active_key": "t:1:c"})
    batch = [
        {"_id": "a", "active_key": "t:2:c"},
        {"_id": "b", "active_key": "t:1:c"},  # taken before the batch
        {"_id": "c"},  # no key (sparse)
        {"_id": "d", "active_key": "t:2:c"},  # taken inside the batch
        {"_id": "e", "active_key": "t:3:c"},
    ]
    with pytest.raises(BulkWriteError) as caught:
        await collection.insert_many(batch, ordered=False)
    errors = caught.value.details["writeErrors"]
    assert sorted((e["index"], e["code"]) for e in errors) == [(1, 11000), (3, 11000)]
    assert sorted([doc["_id"] async for doc in collection.find({}, {"_id": 1})]) == ["a", "c", "e", "x"]


async def test_conditional_increment_upsert_on_id_reports_a_non_match_by_index(
    collection: AsyncCollection[Doc],
) -> None:
    """The reservation group commit: an unordered bulk of conditional $inc's whose non-matching
    operations fail visibly (upsert on an existing _id -> 11000 with the operation's index)."""
    from pymongo.errors import BulkWriteError

    await collection.insert_many([{"_id": "A", "taken": 9}, {"_id": "B", "taken": 0}, {"_id": "C", "taken": 10}])
    requests = [
        UpdateOne({"_id": "A", "taken": {"$lte": 10 - 2}}, {"$inc": {"taken": 2}}, upsert=True),
        UpdateOne({"_id": "B", "taken": {"$lte": 10 - 3}}, {"$inc": {"taken": 3}}, upsert=True),
        UpdateOne({"_id": "C", "taken": {"$lte": 10 - 1}}, {"$inc": {"taken": 1}}, upsert=True),
        UpdateOne({"_id": "A", "taken": {"$lte": 10 - 1}}, {"$inc": {"taken": 1}}, upsert=True),
    ]
    with pytest.raises(BulkWriteError) as caught:
        await collection.bulk_write(requests, ordered=False)
    assert sorted((e["index"], e["code"]) for e in caught.value.details["writeErrors"]) == [(0, 11000), (2, 11000)]
    taken = {doc["_id"]: doc["taken"] async for doc in collection.find({})}
    assert taken == {"A": 10, "B": 3, "C": 10}


async def test_in_with_condition_update_many_ne_and_estimated_count(collection: AsyncCollection[Doc]) -> None:
    await collection.insert_many([{"_id": i, "s": "x" if i % 2 else "y"} for i in range(6)])
    assert sorted([d["_id"] async for d in collection.find({"_id": {"$in": [1, 2, 3]}, "s": "x"})]) == [1, 3]
    result = await collection.update_many({"s": {"$ne": "x"}}, {"$set": {"s": "z"}})
    assert result.modified_count == 3
    assert await collection.estimated_document_count() == 6


async def test_known_gap_update_with_or_next_to_id_changes_another_document(
    collection: AsyncCollection[Doc],
) -> None:
    """nx-27017 0.8.1: a plain ``update_one`` (no upsert) whose filter has ``_id`` next to ``$or`` is
    read as ``_id = k AND a OR b`` and updates ANOTHER document that matches ``b`` (the payment-deadline
    job flagged the wrong teacher this way, issue 12 item 1). Never put ``$or`` in any write filter."""
    await collection.insert_many([{"_id": n, "a": 0, "b": 1 if n == 2 else 0} for n in range(1, 6)])
    before = {d["_id"]: d async for d in collection.find({})}
    await collection.update_one({"_id": 4, "$or": [{"a": 1}, {"b": 1}]}, {"$set": {"hit": True}})
    changed = sorted([d["_id"] async for d in collection.find({}) if d != before[d["_id"]]])
    embedded = "version" not in await collection.database.client.server_info()  # nx-27017 reports none
    if embedded:
        assert changed == [2], "nx-27017 fixed the $or-next-to-_id write gap: update DEVELOPING.md"
    else:
        assert changed == []  # document 4 matches neither branch


async def test_split_conditional_updates_touch_only_their_own_document(collection: AsyncCollection[Doc]) -> None:
    """The safe form of "times is 0 or missing": two conditional updates on the own ``_id``, one per
    branch, each a plain conjunction (what ``flag_special_user`` does)."""
    await collection.insert_many(
        [{"_id": 1, "times": 0}, {"_id": 2}, {"_id": 3, "times": 2}, {"_id": 4}, {"_id": 5, "times": 0}]
    )
    before = {d["_id"]: d async for d in collection.find({})}

    async def flag(key: int, expected: int) -> bool:
        branches: list[Doc] = [{"times": expected}] if expected else [{"times": 0}, {"times": {"$exists": False}}]
        for branch in branches:
            result = await collection.update_one({"_id": key, **branch}, {"$set": {"times": expected + 1}})
            if result.modified_count:
                return True
        return False

    assert await flag(4, 0)  # missing counts as 0
    assert await flag(3, 2)
    assert not await flag(1, 5)  # the count moved: no match, nothing else touched
    after = {d["_id"]: d async for d in collection.find({})}
    assert after[4]["times"] == 1 and after[3]["times"] == 3
    assert {k: v for k, v in after.items() if k not in (3, 4)} == {k: v for k, v in before.items() if k not in (3, 4)}


async def test_claim_takeover_compare_and_set_on_lease_and_holder(collection: AsyncCollection[Doc]) -> None:
    """Claim takeover (``jijiao_kit.consuming.Inbox``, notify's ``release_stale``): a conditional
    ``find_one_and_update`` on the exact integer lease and holder read, racing takers (one wins),
    ``$set`` with ``$unset`` in one update, an epoch float matched by equality in a bulk filter, and
    ``$ne`` on a string with a projection (a missing field matches)."""
    await collection.insert_one({"_id": "k", "state": "processing", "lease_until_ms": 1_764_000_000_123, "holder": "a"})
    expected = {"_id": "k", "state": "processing", "lease_until_ms": 1_764_000_000_123, "holder": "a"}

    async def take(holder: str) -> bool:
        update = {"$set": {"lease_until_ms": 1_764_000_099_000 + len(holder), "holder": holder}}
        return await collection.find_one_and_update(expected, update) is not None

    won = await asyncio.gather(*(take(f"taker{n}") for n in range(8)))
    assert won.count(True) == 1
    doc = await collection.find_one({"_id": "k"})
    assert doc is not None and doc["holder"] == f"taker{won.index(True)}"
    taken = {"_id": "k", "state": "processing", "lease_until_ms": doc["lease_until_ms"], "holder": doc["holder"]}
    assert await collection.find_one_and_update(taken, {"$set": {"lease_until_ms": 1}, "$unset": {"holder": ""}})
    doc = await collection.find_one({"_id": "k"})
    assert doc is not None and "holder" not in doc and doc["lease_until_ms"] == 1

    lease_ts = datetime(2026, 3, 10, 4, 0, 0, 123456, tzinfo=UTC).timestamp()
    await collection.insert_many(
        [
            {"_id": "n1", "status": "sending", "holder": "dead", "lease_ts": lease_ts},
            {"_id": "n2", "status": "sending", "holder": "me", "lease_ts": lease_ts},
            {"_id": "n3", "status": "sending", "lease_ts": lease_ts},
        ]
    )
    others = [d async for d in collection.find({"status": "sending", "holder": {"$ne": "me"}}, {"holder": 1})]
    assert sorted(d["_id"] for d in others) == ["n1", "n3"]
    [read] = [d async for d in collection.find({"status": "sending", "holder": "dead"}, {"lease_ts": 1})]
    result = await collection.bulk_write(
        [
            UpdateOne(
                {"_id": "n1", "status": "sending", "holder": "dead", "lease_ts": read["lease_ts"]},
                {"$set": {"status": "pending"}},
            ),
            UpdateOne({"_id": "n2", "status": "sending", "holder": "dead"}, {"$set": {"status": "pending"}}),
        ],
        ordered=False,
    )
    assert result.modified_count == 1
    assert [d["_id"] async for d in collection.find({"status": "pending"})] == ["n1"]


async def test_keyed_hold_taken_with_a_conditional_increment_and_given_back_once(
    collection: AsyncCollection[Doc],
) -> None:
    """Studio's seat holds: ``$inc`` + ``$set`` of a keyed sub-document under ``$lt`` and ``$exists: False``;
    the give-back ``$unset`` + ``$inc`` under ``$exists: True`` matches once; a projection leaves them out."""
    await collection.insert_one({"_id": "s", "members": 0})
    take = {"$inc": {"members": 1}, "$set": {"seat_holds.a1": {"counter": "members", "at_ms": 5}}}
    assert (
        await collection.update_one({"_id": "s", "members": {"$lt": 2}, "seat_holds.a1": {"$exists": False}}, take)
    ).modified_count == 1
    assert (
        await collection.update_one({"_id": "s", "members": {"$lt": 2}, "seat_holds.a1": {"$exists": False}}, take)
    ).modified_count == 0
    assert await collection.find_one({"_id": "s"}, {"seat_holds": 0}) == {"_id": "s", "members": 1}
    give_back = {"$unset": {"seat_holds.a1": ""}, "$inc": {"members": -1}}
    results = [
        await collection.update_one({"_id": "s", "seat_holds.a1": {"$exists": True}}, give_back) for _ in range(2)
    ]
    assert [r.modified_count for r in results] == [1, 0]
    assert await collection.find_one({"_id": "s"}) == {"_id": "s", "members": 0, "seat_holds": {}}


async def test_hold_on_two_counters_under_gte_and_given_back_by_its_noted_amounts(
    collection: AsyncCollection[Doc],
) -> None:
    """Baseline's reservation holds: two counters under ``$gte`` with ``$exists: False`` on the hold, the hold
    noted by a dotted ``$set`` and counted in ``holding``; ``{"holding": {"$gt": 0}}`` lists the document
    while a hold is left; the give-back ``$inc`` of both + ``$unset`` matches once."""
    await collection.insert_one({"_id": "q", "allocation_left": 10, "batches_left": 1})
    query = {"_id": "q", "holds.h1": {"$exists": False}, "allocation_left": {"$gte": 5}, "batches_left": {"$gte": 1}}
    take = {
        "$inc": {"allocation_left": -5, "batches_left": -1, "holding": 1},
        "$set": {"holds.h1": {"amounts": {"allocation_left": 5, "batches_left": 1}, "at_ms": 7}},
    }
    assert (await collection.update_one(query, take)).modified_count == 1
    other = {**query, "holds.h2": {"$exists": False}}
    del other["holds.h1"]
    assert (await collection.update_one(other, take)).modified_count == 0  # batches_left is 0 now
    listed = [d async for d in collection.find({"holding": {"$gt": 0}}, {"holds": 1})]
    assert listed == [{"_id": "q", "holds": {"h1": {"amounts": {"allocation_left": 5, "batches_left": 1}, "at_ms": 7}}}]
    give_back = {"$inc": {"allocation_left": 5, "batches_left": 1, "holding": -1}, "$unset": {"holds.h1": ""}}
    results = [await collection.update_one({"_id": "q", "holds.h1": {"$exists": True}}, give_back) for _ in range(2)]
    assert [r.modified_count for r in results] == [1, 0]
    after = await collection.find_one({"_id": "q"})
    assert after == {"_id": "q", "allocation_left": 10, "batches_left": 1, "holds": {}, "holding": 0}
    assert [d["_id"] async for d in collection.find({"holding": {"$gt": 0}})] == []


async def test_non_empty_map_filter_and_release_once_marker(collection: AsyncCollection[Doc]) -> None:
    """``$ne: {}`` (an empty map) is refused by the store (so baseline counts its holds in ``holding``);
    a release noted as ``released.<key>`` under ``$exists: False`` counts once."""
    await collection.insert_many(
        [
            {"_id": "empty", "holds": {}},
            {"_id": "none"},
            {"_id": "held", "holds": {"h": {"at_ms": 1}}},
            {"_id": "q", "n": 0},
        ]
    )
    with pytest.raises(OperationFailure):
        await collection.find_one({"holds": {"$exists": True, "$ne": {}}})
    release = {"$inc": {"n": 5}, "$set": {"released.d1": True}}
    results = [await collection.update_one({"_id": "q", "released.d1": {"$exists": False}}, release) for _ in range(3)]
    assert [r.modified_count for r in results] == [1, 0, 0]
    assert await collection.find_one({"_id": "q"}) == {"_id": "q", "n": 5, "released": {"d1": True}}


async def test_keyed_once_marks_with_colons_in_the_key_and_a_pending_mark_unset_at_the_top(
    collection: AsyncCollection[Doc],
) -> None:
    """Community: a recommendation keyed by the assignment's id (``<activity>:<ce>:assignment``) is set under
    ``$exists: False`` once (also of 10 at once); a real activity is counted by ``$set real.<id>`` + ``$inc``
    under the version and ``$exists: False``; the organised activity's top-level ``real_pending_ms`` is found
    by ``$lte`` (with an index on it) and, once ``$unset``, found no more."""
    await collection.create_index("real_pending_ms", name="real_pending")
    await collection.insert_many(
        [
            {"_id": "a1", "owner_kind": "workshop", "recommendations": {}, "real_pending_ms": 5},
            {"_id": "a2", "owner_kind": "workshop", "recommendations": {}},
            {"_id": "w", "version": 0, "real_activities": 0},
        ]
    )
    key = "recommendations.a1:P1:assignment"
    recommend = {"$set": {key: {"assignment_id": "a1:P1:assignment", "ce_number": "P1"}}}
    results = await asyncio.gather(
        *(collection.update_one({"_id": "a1", key: {"$exists": False}}, recommend) for _ in range(10))
    )
    assert sum(r.modified_count for r in results) == 1
    found = await collection.find_one({"_id": "a1"})
    assert found is not None and list(found["recommendations"]) == ["a1:P1:assignment"]

    count = {"$set": {"real.a1": 7}, "$inc": {"real_activities": 1, "version": 1}}
    first = await collection.update_one({"_id": "w", "version": 0, "real.a1": {"$exists": False}}, count)
    again = await collection.update_one({"_id": "w", "version": 1, "real.a1": {"$exists": False}}, count)
    assert (first.modified_count, again.modified_count) == (1, 0)
    assert await collection.find_one({"_id": "w"}) == {
        "_id": "w",
        "version": 1,
        "real_activities": 1,
        "real": {"a1": 7},
    }

    pending = {"owner_kind": "workshop", "real_pending_ms": {"$lte": 10}}
    assert [d["_id"] async for d in collection.find(pending, {"_id": 1})] == ["a1"]
    assert [d["_id"] async for d in collection.find({**pending, "real_pending_ms": {"$lte": 4}})] == []
    await collection.update_one({"_id": "a1"}, {"$unset": {"real_pending_ms": ""}})
    assert [d["_id"] async for d in collection.find(pending)] == []
    assert "real_pending_ms" not in (await collection.find_one({"_id": "a1"}) or {})


async def test_version_of_a_nested_map_entry_none_matches_missing_and_inc_creates_it(
    collection: AsyncCollection[Doc],
) -> None:
    """Baseline's list versions (``zones.<z>.version``): a filter on ``None`` matches a list written before
    versions (no field) and stops matching once ``$inc`` (with a dotted ``$set``/``$unset`` of a keyed trainee)
    created it; an equality on the version read matches once; ``{"$gt": 0}`` and ``None`` on a number tell a
    confirmed list from an unconfirmed one (``confirmed_at``)."""
    await collection.insert_one({"_id": "b", "zones": {"z": {"confirmed_at": None, "count": 0, "trainees": {}}}})
    unconfirmed = {"_id": "b", "zones.z.confirmed_at": None}
    add = {"$inc": {"zones.z.count": 1, "zones.z.version": 1}, "$set": {"zones.z.trainees.t1": {"name": "张"}}}
    assert (await collection.update_one({**unconfirmed, "zones.z.version": None}, add)).modified_count == 1
    assert (await collection.update_one({**unconfirmed, "zones.z.version": None}, add)).modified_count == 0
    confirm = {"$set": {"zones.z.confirmed_at": 1234}}
    results = [await collection.update_one({**unconfirmed, "zones.z.version": 1}, confirm) for _ in range(2)]
    assert [r.modified_count for r in results] == [1, 0]
    confirmed = {"_id": "b", "zones.z.confirmed_at": {"$gt": 0}, "zones.z.version": 1}
    change = {"$set": {"zones.z.trainees.t1.name": "李"}, "$inc": {"zones.z.version": 1}}
    assert (await collection.update_one(confirmed, change)).matched_count == 1
    assert (await collection.update_one(confirmed, change)).matched_count == 0  # the version moved on
    remove = {"$unset": {"zones.z.trainees.t1": ""}, "$inc": {"zones.z.count": -1, "zones.z.version": 1}}
    assert (
        await collection.update_one({**unconfirmed, "zones.z.trainees.t1": {"$exists": True}}, remove)
    ).modified_count == 0
    doc = await collection.find_one({"_id": "b"}) or {}
    assert doc["zones"]["z"] == {"confirmed_at": 1234, "count": 1, "trainees": {"t1": {"name": "李"}}, "version": 2}


async def test_conditional_replacement_of_a_sub_document_where_none_matches_a_missing_field(
    collection: AsyncCollection[Doc],
) -> None:
    """Enrollment's programme logins: a hand-over ``$set`` of the whole ``credentials`` sub-document under
    ``closed_ms: None`` (missing) and ``trainee_version: None`` (missing) or the version read; a re-issue
    under ``credentials.must_change: True``; the expiry job under ``credentials.initial_valid_until_ms $lt``."""
    await collection.insert_one({"_id": "tr-1", "credentials": {"must_change": True, "initial_valid_until_ms": 10}})
    hand_over = {"$set": {"credentials": {"must_change": True, "initial_valid_until_ms": 50}, "trainee_version": 3}}
    query = {"_id": "tr-1", "closed_ms": None, "trainee_version": None}
    assert [(await collection.update_one(query, hand_over)).modified_count for _ in range(2)] == [1, 0]
    stale = {"_id": "tr-1", "closed_ms": None, "trainee_version": 2}
    assert (await collection.update_one(stale, {"$set": {"name": "x"}})).modified_count == 0
    expire = {"_id": "tr-1", "credentials.must_change": True, "credentials.initial_valid_until_ms": {"$lt": 20}}
    assert (await collection.update_one(expire, {"$set": {"credentials.password_hash": "-"}})).modified_count == 0
    await collection.update_one({"_id": "tr-1"}, {"$set": {"closed_ms": 99}})
    reissue = {"_id": "tr-1", "closed_ms": None, "credentials.must_change": True}
    assert (await collection.update_one(reissue, {"$set": {"credentials": {}}})).modified_count == 0
    doc = await collection.find_one({"_id": "tr-1"}) or {}
    assert doc["credentials"] == {"must_change": True, "initial_valid_until_ms": 50} and doc["trainee_version"] == 3


async def test_inclusion_projections_return_only_the_named_fields(collection: AsyncCollection[Doc]) -> None:
    """Baseline's archive counts reflections and outcomes without their texts: ``{"_id": 0, "a": 1, ...}``
    and ``{"_id": 1}``; a flag ``$set`` to True may come back as 1 (read with bool)."""
    await collection.insert_many(
        [
            {"_id": "r1", "year": "y", "trainee_id": "t1", "excellent": False, "body_html": "x" * 1000},
            {"_id": "r2", "year": "y", "trainee_id": "t2", "body_html": "y"},
            {"_id": "r3", "year": "z", "trainee_id": "t3", "excellent": False},
        ]
    )
    await collection.update_one({"_id": "r1"}, {"$set": {"excellent": True}})
    tallies = [d async for d in collection.find({"year": "y"}, {"_id": 0, "trainee_id": 1, "excellent": 1})]
    assert sorted(tallies, key=lambda d: d["trainee_id"]) in (
        [{"trainee_id": "t1", "excellent": True}, {"trainee_id": "t2"}],
        [{"trainee_id": "t1", "excellent": 1}, {"trainee_id": "t2"}],
    )
    assert sorted([d async for d in collection.find({"year": "y"}, {"_id": 1})], key=lambda d: d["_id"]) == [
        {"_id": "r1"},
        {"_id": "r2"},
    ]


async def test_capped_counter_noting_each_id_under_concurrency_and_given_back_once(
    collection: AsyncCollection[Doc],
) -> None:
    """Baseline's per-trainee reflection and image caps: ``$setOnInsert`` upsert of the counters, then a
    ``$lt`` cap plus ``ids.<id>`` ``$exists: False`` with ``$inc`` and a dotted ``$set``, 200 at once; the
    give-back (``$exists: True`` + ``$inc -1`` + ``$unset``) matches once; ``find_one`` projects the map."""
    await collection.update_one({"_id": "t"}, {"$setOnInsert": {"reflections": 0, "images": 0}}, upsert=True)
    await collection.update_one({"_id": "t"}, {"$setOnInsert": {"reflections": 0, "images": 0}}, upsert=True)

    async def take(n: int) -> int:
        result = await collection.update_one(
            {"_id": "t", "reflections": {"$lt": 50}, f"reflection_ids.r{n}": {"$exists": False}},
            {"$inc": {"reflections": 1}, "$set": {f"reflection_ids.r{n}": n}},
        )
        return result.modified_count

    assert sum(await asyncio.gather(*(take(n) for n in range(200)))) == 50
    doc = await collection.find_one({"_id": "t"}, {"reflection_ids": 1}) or {}
    assert set(doc) == {"_id", "reflection_ids"} and len(doc["reflection_ids"]) == 50
    taken = next(iter(doc["reflection_ids"]))
    give_back = {"$inc": {"reflections": -1}, "$unset": {f"reflection_ids.{taken}": ""}}
    results = await asyncio.gather(
        *(
            collection.update_one({"_id": "t", f"reflection_ids.{taken}": {"$exists": True}}, give_back)
            for _ in range(5)
        )
    )
    assert sum(r.modified_count for r in results) == 1
    doc = await collection.find_one({"_id": "t"}) or {}
    assert (doc["reflections"], doc["images"], len(doc["reflection_ids"])) == (49, 0, 49)


async def test_conditional_delete_of_an_unmarked_document_and_in_with_an_owner(
    collection: AsyncCollection[Doc],
) -> None:
    """Baseline deletes a reflection only while ``excellent`` is not True, by ``$in: [False, None]`` (also
    after ``$set`` True then False, and with the field missing), and finds a trainee's own images by
    ``_id $in`` plus the owner. Known gap: a delete by ``$ne: True`` does not match a missing field
    (reads do)."""
    await collection.insert_many(
        [
            {"_id": "a", "trainee_id": "t1", "excellent": False},
            {"_id": "b", "trainee_id": "t1"},
            {"_id": "c", "trainee_id": "t2", "excellent": False},
            {"_id": "d", "trainee_id": "t1"},
        ]
    )
    await collection.update_one({"_id": "a"}, {"$set": {"excellent": True}})
    marked = {"_id": "a", "trainee_id": "t1", "excellent": {"$in": [False, None]}}
    assert (await collection.delete_one(marked)).deleted_count == 0
    await collection.update_one({"_id": "a"}, {"$set": {"excellent": False}})
    assert (await collection.delete_one(marked)).deleted_count == 1
    unmarked = {"_id": "b", "trainee_id": "t1", "excellent": {"$in": [False, None]}}
    assert (await collection.delete_one(unmarked)).deleted_count == 1
    assert await collection.count_documents({"_id": "d", "excellent": {"$ne": True}}) == 1
    assert (await collection.delete_one({"_id": "d", "excellent": {"$ne": True}})).deleted_count in (0, 1)
    own = [d async for d in collection.find({"_id": {"$in": ["a", "b", "c", "x"]}, "trainee_id": "t2"}, {"_id": 1})]
    assert own == [{"_id": "c"}]


async def test_set_upsert_replaces_fields_and_a_projected_find_by_two_fields(collection: AsyncCollection[Doc]) -> None:
    """Baseline's sharing sessions: one document per trainee written by ``$set`` with upsert (a second
    write replaces the fields), read per year and zone projected to one field."""
    first = {"year": "y", "zone_id": "z", "shared_on": "2019-10-01", "note": "a"}
    await collection.update_one({"_id": "t1"}, {"$set": first}, upsert=True)
    await collection.update_one(
        {"_id": "t1"}, {"$set": {**first, "shared_on": "2019-10-02", "note": None}}, upsert=True
    )
    await collection.update_one({"_id": "t2"}, {"$set": {**first, "zone_id": "other"}}, upsert=True)
    assert await collection.count_documents({}) == 2
    found = [d async for d in collection.find({"year": "y", "zone_id": "z"}, {"shared_on": 1})]
    assert found == [{"_id": "t1", "shared_on": "2019-10-02"}]
    assert (await collection.find_one({"_id": "t1"}) or {})["note"] is None


async def test_bulk_compare_and_set_upserts_on_id_report_each_non_match_by_index(
    collection: AsyncCollection[Doc],
) -> None:
    """The community's coalesced conditional updates (``CoalescingUpdater``): one unordered bulk of
    ``update_one``s, each an upsert on its existing ``_id``, with the filters the topic and rating writes
    use (exact count, ``$lt`` range, ``$exists: False`` of a map key, an equality on a stored key, a
    flag); ``$set`` of map keys and outbox entries with ``$inc`` of counters. A filter that does not
    match fails alone (11000 at its index) and creates nothing; two writes of one document in the batch
    see each other (the second exact compare-and-set on the same count fails)."""
    from pymongo.errors import BulkWriteError

    await collection.insert_many(
        [
            {"_id": "t1", "hidden": False, "participant_count": 5, "participants": {"a": 1}, "post_count": 0},
            {"_id": "t2", "hidden": True, "participant_count": 0, "participants": {}, "post_count": 0},
            {"_id": "r1", "hidden": False, "rating_count": 1, "rating_sum": 4, "ratings": {"a": 4}, "excellent": False},
        ]
    )

    def join(topic: str, ce: str, count: Any) -> UpdateOne:
        return UpdateOne(
            {"_id": topic, "hidden": False, "participant_count": count, f"participants.{ce}": {"$exists": False}},
            {
                "$set": {f"participants.{ce}": 1, f"outbox.e-{topic}-{ce}": {"body": "{}"}},
                "$inc": {"participant_count": 1, "post_count": 1, "outbox_pending": 1},
            },
            upsert=True,
        )

    requests = [
        join("t1", "b", 5),  # 0: exact compare-and-set, matches
        join("t1", "c", 5),  # 1: same count after 0 moved it: refused
        join("t1", "a", {"$lt": 19}),  # 2: "a" counted already: refused
        join("t1", "d", {"$lt": 19}),  # 3: range: matches (6 -> 7)
        join("t2", "b", {"$lt": 19}),  # 4: hidden: refused
        UpdateOne(  # 5: a changed rating whose previous value is still the stored one
            {"_id": "r1", "hidden": False, "rating_count": 1, "rating_sum": 4, "ratings.a": 4},
            {"$set": {"ratings.a": 2}, "$inc": {"rating_count": 0, "rating_sum": -2}},
            upsert=True,
        ),
        UpdateOne(  # 6: a first rating whose teacher rated meanwhile: refused
            {"_id": "r1", "hidden": False, "ratings.a": {"$exists": False}},
            {"$set": {"ratings.a": 5}, "$inc": {"rating_count": 1, "rating_sum": 5}},
            upsert=True,
        ),
        UpdateOne({"_id": "t1"}, {"$inc": {"post_count": 1}}, upsert=True),  # 7: unconditional: matches
        UpdateOne(  # 8: the flag compared and set, on a count that moved: refused
            {"_id": "r1", "hidden": False, "rating_count": 19, "excellent": False},
            {"$set": {"excellent": True, "outbox.f1": {"body": "{}"}}, "$inc": {"rating_count": 1}},
            upsert=True,
        ),
        UpdateOne(  # 9: the flag compared and set: matches
            {"_id": "r1", "hidden": False, "rating_count": 1, "excellent": False},
            {"$set": {"excellent": True, "outbox.f2": {"body": "{}"}}, "$inc": {"outbox_pending": 1}},
            upsert=True,
        ),
    ]
    with pytest.raises(BulkWriteError) as caught:
        await collection.bulk_write(requests, ordered=False)
    refused = sorted((e["index"], e["code"]) for e in caught.value.details["writeErrors"])
    assert refused == [(1, 11000), (2, 11000), (4, 11000), (6, 11000), (8, 11000)]
    assert await collection.count_documents({}) == 3  # no upsert created anything
    t1 = await collection.find_one({"_id": "t1"})
    assert t1 is not None
    assert (t1["participant_count"], t1["post_count"], t1["outbox_pending"]) == (7, 3, 2)
    assert t1["participants"] == {"a": 1, "b": 1, "d": 1}
    assert set(t1["outbox"]) == {"e-t1-b", "e-t1-d"} and t1["outbox"]["e-t1-b"] == {"body": "{}"}
    assert await collection.find_one({"_id": "t2"}, {"participants": 1, "participant_count": 1}) == {
        "_id": "t2",
        "participants": {},
        "participant_count": 0,
    }
    r1 = await collection.find_one({"_id": "r1"})
    assert r1 is not None and (r1["rating_count"], r1["rating_sum"], r1["ratings"]) == (1, 2, {"a": 2})
    assert bool(r1["excellent"]) and set(r1["outbox"]) == {"f2"} and r1["outbox_pending"] == 1


async def test_owner_neutral_activity_forms(collection: AsyncCollection[Doc]) -> None:
    """The one activity model (studio and workshop activities in one collection): counts by owner and stage
    (a count by ``stage_id: None`` is not relied on: 0 here), ``owner_kind $ne "workshop"`` next to ``reminded_ms: None``
    reads studio activities with and without the field (older ones), and a segment added under
    ``revision: {$exists: False}`` (an activity from before the field) matches once, ``$inc`` creating it."""
    await collection.insert_many(
        [
            {"_id": "w1", "studio_id": "o", "stage_id": None, "owner_kind": "workshop", "reminded_ms": None},
            {"_id": "w2", "studio_id": "o", "stage_id": None, "owner_kind": "workshop", "reminded_ms": None},
            {"_id": "s1", "studio_id": "o", "stage_id": "st", "owner_kind": "studio", "reminded_ms": None},
            {"_id": "old", "studio_id": "o", "stage_id": "st", "reminded_ms": None},
        ]
    )
    assert await collection.count_documents({"studio_id": "o", "stage_id": "st"}) == 2
    assert await collection.count_documents({"studio_id": "o"}) == 4
    # GAP: a count by ``stage_id: None`` matches no stored null (so a stageless order counts by owner only)
    assert await collection.count_documents({"studio_id": "o", "stage_id": None}) in (0, 2)
    due = {"reminded_ms": None, "owner_kind": {"$ne": "workshop"}}
    assert sorted([d["_id"] async for d in collection.find(due).limit(10)]) == ["old", "s1"]
    query = {"_id": "old", "studio_id": "o", "revision": {"$exists": False}}
    first = await collection.update_one(query, {"$set": {"segments": [{"id": "a"}]}, "$inc": {"revision": 1}})
    again = await collection.update_one(query, {"$set": {"segments": [{"id": "b"}]}, "$inc": {"revision": 1}})
    assert (first.modified_count, again.modified_count) == (1, 0)
    old = await collection.find_one({"_id": "old"})
    assert old is not None and old["revision"] == 1 and old["segments"] == [{"id": "a"}]


async def test_grade_and_author_owned_forms(collection: AsyncCollection[Doc]) -> None:
    """A grade ``$set`` on an existing participation record, replaced by the next one and read back through a
    projection (a flag may come back as 1: read with ``bool``); an author's delete and edit filtered on
    ``_id`` plus the author touch nothing of anyone else's."""
    await collection.insert_many(
        [
            {"_id": "a:1:assignment", "activity_id": "a", "ce_number": "1", "part": "assignment"},
            {"_id": "a:2:assignment", "activity_id": "a", "ce_number": "2", "part": "assignment"},
            {"_id": "log1", "author_ce_number": "1", "title": "t"},
        ]
    )
    for passed in (True, False, True):
        result = await collection.update_one({"_id": "a:1:assignment"}, {"$set": {"passed": passed, "graded_ms": 1}})
        assert result.matched_count == 1
    assert (await collection.update_one({"_id": "a:9:assignment"}, {"$set": {"passed": True}})).matched_count == 0
    read = {d["_id"]: d.get("passed") async for d in collection.find({"activity_id": "a"}, {"part": 1, "passed": 1})}
    assert bool(read["a:1:assignment"]) is True and read["a:2:assignment"] is None
    await collection.update_one({"_id": "a:1:assignment"}, {"$set": {"passed": False}})
    stored = await collection.find_one({"_id": "a:1:assignment"}, {"passed": 1})
    assert stored is not None and bool(stored["passed"]) is False
    assert (
        await collection.update_one({"_id": "log1", "author_ce_number": "2"}, {"$set": {"title": "x"}})
    ).matched_count == 0
    assert (await collection.delete_one({"_id": "log1", "author_ce_number": "2"})).deleted_count == 0
    assert (await collection.delete_one({"_id": "log1", "author_ce_number": "1"})).deleted_count == 1
    assert await collection.count_documents({}) == 2


async def test_flag_set_by_update_many_refuses_ne_true_compare_and_sets_in_a_bulk(
    collection: AsyncCollection[Doc],
) -> None:
    """Hiding a workshop flags its content with ``update_many`` by ``workshop_id``; the content's earning
    writes (coalesced upserts on ``_id``) filter ``workshop_hidden: {$in: [False, None]}``, which matches
    a document without the flag (older ones) or with it cleared, and refuses a flagged one. In a write
    filter ``{$ne: True}`` does NOT match a document without the field here (pinned below); reads do."""
    from pymongo.errors import BulkWriteError

    await collection.insert_many(
        [
            {"_id": "r1", "workshop_id": "w1", "workshop_hidden": False, "n": 0},
            {"_id": "r2", "workshop_id": "w1", "workshop_hidden": False, "n": 0},
            {"_id": "r3", "workshop_id": "w2", "n": 0},  # written before the flag existed
        ]
    )
    await collection.update_many({"workshop_id": "w1"}, {"$set": {"workshop_hidden": True}})
    await collection.update_many({"workshop_id": "w1", "_id": "r2"}, {"$set": {"workshop_hidden": False}})
    for test in ({"$ne": True}, {"$in": [False, None]}):  # in reads both forms behave
        visible = [d["_id"] async for d in collection.find({"workshop_hidden": test}).sort("_id", 1)]
        assert visible == ["r2", "r3"]

    def earn(doc_id: str, test: Any) -> UpdateOne:
        return UpdateOne({"_id": doc_id, "workshop_hidden": test}, {"$inc": {"n": 1}}, upsert=True)

    visible_flag = {"$in": [False, None]}
    with pytest.raises(BulkWriteError) as caught:
        await collection.bulk_write([earn(d, visible_flag) for d in ("r1", "r2", "r3")], ordered=False)
    assert [(e["index"], e["code"]) for e in caught.value.details["writeErrors"]] == [(0, 11000)]
    assert {d["_id"]: d["n"] async for d in collection.find({})} == {"r1": 0, "r2": 1, "r3": 1}
    # the known gap: $ne True in a write filter misses the document without the field
    with pytest.raises(BulkWriteError) as caught:
        await collection.bulk_write([earn("r3", {"$ne": True})], ordered=False)
    assert await collection.count_documents({}) == 3


async def test_find_one_and_update_by_a_sparse_unique_field_sets_a_map_key_and_returns_the_id(
    collection: AsyncCollection[Doc],
) -> None:
    """A duplicate share notes its owner on the earning share (``earning_fingerprint``, sparse unique)
    and learns that share's ``_id``; a copy (without the field) is never matched."""
    await collection.create_index("earning_fingerprint", unique=True, sparse=True)
    await collection.insert_many([{"_id": "first", "earning_fingerprint": "f", "fingerprint": "f"}, {"_id": "copy"}])
    found = await collection.find_one_and_update(
        {"earning_fingerprint": "f"}, {"$set": {"owners.2001": 1}}, projection={"_id": 1}
    )
    assert found == {"_id": "first"}
    assert (await collection.find_one({"_id": "first"}) or {})["owners"] == {"2001": 1}
    assert await collection.find_one_and_update({"earning_fingerprint": "g"}, {"$set": {"owners.x": 1}}) is None
    assert await collection.find_one({"fingerprint": "f", "hidden": True}, {"_id": 1}) is None


async def test_per_teacher_counts_in_a_map_inc_and_unset_under_compare_and_set_in_a_bulk(
    collection: AsyncCollection[Doc],
) -> None:
    """A topic's ``participants.<ce>`` counts each teacher's visible posts: a known teacher's post is an
    ``$inc`` of their entry under ``$exists: True``; a hidden post compares the entry as read and either
    ``$inc``-s it by -1 or ``$unset``-s it with the distinct count one less, with a mark ``hidden_posts.<id>``
    set once (``$exists: False``); showing it again ``$unset``-s the mark under ``$exists: True``. All as
    coalesced upserts on ``_id``: a filter that does not match fails alone and creates nothing."""
    from pymongo.errors import BulkWriteError

    await collection.insert_one(
        {"_id": "t", "participants": {"a": 2, "b": 1}, "participant_count": 2, "post_count": 3, "discussed": False}
    )
    requests = [
        UpdateOne(  # 0: a's post again: a is known
            {"_id": "t", "participants.a": {"$exists": True}},
            {"$inc": {"participants.a": 1, "post_count": 1}},
            upsert=True,
        ),
        UpdateOne(  # 1: c is not known: refused
            {"_id": "t", "participants.c": {"$exists": True}}, {"$inc": {"participants.c": 1}}, upsert=True
        ),
        UpdateOne(  # 2: hide b's only post: b leaves, marked
            {"_id": "t", "hidden_posts.p1": {"$exists": False}, "participants.b": 1},
            {"$set": {"hidden_posts.p1": 1}, "$unset": {"participants.b": ""}, "$inc": {"participant_count": -1}},
            upsert=True,
        ),
        UpdateOne(  # 3: the same hide again: marked already, refused
            {"_id": "t", "hidden_posts.p1": {"$exists": False}, "participants.b": 1},
            {"$set": {"hidden_posts.p1": 1}, "$unset": {"participants.b": ""}, "$inc": {"participant_count": -1}},
            upsert=True,
        ),
        UpdateOne(  # 4: hide one of a's posts, a as read before 0 moved it: refused
            {"_id": "t", "hidden_posts.p2": {"$exists": False}, "participants.a": 2},
            {"$set": {"hidden_posts.p2": 1}, "$inc": {"participants.a": -1}},
            upsert=True,
        ),
        UpdateOne(  # 5: the same with a as it is now: one less, still counted
            {"_id": "t", "hidden_posts.p2": {"$exists": False}, "participants.a": 3},
            {"$set": {"hidden_posts.p2": 1}, "$inc": {"participants.a": -1, "post_count": -1}},
            upsert=True,
        ),
        UpdateOne(  # 6: b's post shown again: the mark goes, b is new again, a crossing guarded by its flag
            {
                "_id": "t",
                "hidden_posts.p1": {"$exists": True},
                "participants.b": {"$exists": False},
                "participant_count": 1,
                "discussed": False,
            },
            {
                "$unset": {"hidden_posts.p1": ""},
                "$set": {"participants.b": 1, "discussed": True},
                "$inc": {"participant_count": 1},
            },
            upsert=True,
        ),
    ]
    with pytest.raises(BulkWriteError) as caught:
        await collection.bulk_write(requests, ordered=False)
    assert sorted((e["index"], e["code"]) for e in caught.value.details["writeErrors"]) == [
        (1, 11000),
        (3, 11000),
        (4, 11000),
    ]
    assert await collection.count_documents({}) == 1
    doc = await collection.find_one({"_id": "t"}) or {}
    assert (doc["participants"], doc["participant_count"], doc["post_count"]) == ({"a": 2, "b": 1}, 2, 3)
    assert doc["hidden_posts"] == {"p2": 1} and bool(doc["discussed"])


async def test_a_flag_set_false_again_by_update_many_matches_equality_with_false(
    collection: AsyncCollection[Doc],
) -> None:
    """The community's ``workshop_hidden``: inserted False, a workshop's hide ``$set``s True by ``update_many``
    and its unhide False again; the earning writes filter ``{"workshop_hidden": False}`` (equality), which
    must match the unhidden and the never-hidden documents and refuse the hidden one. A document written
    before the flag existed gets it by the startup backfill (``$exists: False`` -> ``$set`` False)."""
    await collection.insert_many(
        [
            {"_id": "a", "workshop_id": "w1", "workshop_hidden": False, "n": 0},
            {"_id": "b", "workshop_id": "w2", "workshop_hidden": False, "n": 0},
            {"_id": "old", "workshop_id": "w3", "n": 0},
        ]
    )
    await collection.update_many({"workshop_id": "w1"}, {"$set": {"workshop_hidden": True}})
    await collection.update_many({"workshop_id": "w2"}, {"$set": {"workshop_hidden": True}})
    await collection.update_many({"workshop_id": "w2"}, {"$set": {"workshop_hidden": False}})
    await collection.update_many({"workshop_hidden": {"$exists": False}}, {"$set": {"workshop_hidden": False}})
    results = {
        key: (await collection.update_one({"_id": key, "workshop_hidden": False}, {"$inc": {"n": 1}})).modified_count
        for key in ("a", "b", "old")
    }
    assert results == {"a": 0, "b": 1, "old": 1}
    assert sorted([d["_id"] async for d in collection.find({"workshop_hidden": False})]) == ["b", "old"]
