"""The store's floor: what one document operation costs the embedded store (nx-27017) on this machine,
and what that alone allows each ratio target of issues 3, 4 and 5.

Every figure is measured on a private store started for this run (or ``MONGODB_URL``), with documents
and indexes shaped like the real ones, in the forms the services use (single ``insert_one`` at the
selection storm's concurrency; ``insert_many``, ``bulk_write`` of ``UpdateOne`` and ``find $in`` in
batches of 200, as the batch consumers do). The broker's raw consume rate is measured in the same run.

``ceilings`` combines them with the document operations one unit of work needs by the design rules
(listed in ``OPERATIONS``): a notice, a points fact, an hour fact. ``store_only_ceiling_per_s`` is the
rate at which the store alone would be saturated if nothing else (service code, broker, clients) used
any CPU, and ``best_ratio_to_raw`` is that rate over the raw rate the benchmark compares with. Where it
is below the target, no change to service code can meet the target on this machine and store.

``BENCH_STORE_DOCS`` sets the documents per measurement (default 4,000)."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from benchmarks._measure import raw_broker_rates
from jijiao_stack.processes import ProcessGroup, free_port, spawn_store

RABBITMQ_URL = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
BATCH = 200
CONCURRENCY = 200
Doc = dict[str, Any]

# Document operations per unit of work on the store (writes the design rules require, reads that the
# batch paths share per batch are counted per document). Each entry: (operation kind, count).
OPERATIONS: dict[str, list[tuple[str, float]]] = {
    # notice insert (keyed on cause + recipient + channel: its own inbox), status update to sent (with
    # the outcome-record mark), and the burst's own fact: the teacher's special-user flag in the contact
    # book (the development sink is in Redis; school-admin notices alone keep an inbox record)
    "notify_notice": [("insert_many", 1), ("bulk_update", 1), ("insert_many_small", 1)],
    # account read, account update carrying PointsAwarded, relay cleanup of that event
    "hours_points_fact": [("find_in", 1), ("bulk_update", 2)],
    # teacher-year read, reservation (grant + pending entry), ledger insert with HoursCredited,
    # pending copy cleared, relay cleanup of the event
    "hours_hour_fact": [("find_in", 1), ("bulk_update", 3), ("insert_many", 1)],
}
TARGETS = {"notify_notice": 0.30, "hours_points_fact": 0.30, "hours_hour_fact": 0.30}
# The raw consume rate each benchmark divides by is measured with that benchmark's prefetch.
RAW_PREFETCH = {"notify_notice": 32, "hours_points_fact": 1000, "hours_hour_fact": 1000}


def document(index: int) -> Doc:
    """About the size of a notice or a selection with its outbox entry."""
    return {
        "_id": f"e{index:08d}:139{index:08d}:sms",
        "to": f"139{index:08d}",
        "channel": "sms",
        "template": "special_user_flagged",
        "text": "【继教】您本学期有未缴费的选课，已被列为特殊用户，请尽快联系学校管理员办理。",
        "status": "sending",
        "attempts": 0,
        "day": "2026-11-30",
        "created_at": datetime.now(UTC),
        "outbox": {"x": {"routing_key": "notify.notice_sent.v1", "body": "x" * 400}},
        "outbox_pending": 1,
    }


async def rate(count: int, run: Any) -> float:
    started = time.perf_counter()
    await run()
    return round(count / (time.perf_counter() - started), 1)


async def measure(collection: AsyncCollection[Doc], small: AsyncCollection[Doc], count: int) -> dict[str, float]:
    for keys in ([("to", 1), ("day", 1)], [("status", 1)], [("outbox_pending", 1)]):
        await collection.create_index(keys)
    batches = [range(start, min(start + BATCH, count)) for start in range(0, count, BATCH)]

    async def insert_many() -> None:
        for batch in batches:
            await collection.insert_many([document(i) for i in batch], ordered=False)

    async def bulk_update() -> None:
        for batch in batches:
            await collection.bulk_write(
                [
                    UpdateOne(
                        {"_id": document(i)["_id"], "status": "sending"},
                        {"$set": {"status": "sent", "attempts": 1, "sent_ms": i}},
                    )
                    for i in batch
                ],
                ordered=False,
            )

    async def find_in() -> None:
        for batch in batches:
            _ = [doc async for doc in collection.find({"_id": {"$in": [document(i)["_id"] for i in batch]}})]

    async def insert_many_small() -> None:
        for batch in batches:
            await small.insert_many([{"_id": f"notify.notice:{i}", "at": i} for i in batch], ordered=False)

    async def bulk_update_grown() -> None:
        """The same update on documents that carry 60 small entries (a points account late in the year):
        the store decodes the whole document before and after each update."""
        grown = small.database["grown"]
        entries = {f"f{j:03d}": f"studio_activity|ref-{j}|studio:x|10|10||2026-03-01T00:00:00Z" for j in range(60)}
        await grown.insert_many([{"_id": f"a{i}", "balance": 0, "facts": entries} for i in range(count)])
        for batch in batches:
            await grown.bulk_write(
                [UpdateOne({"_id": f"a{i}"}, {"$set": {"facts.new": "x"}, "$inc": {"balance": 10}}) for i in batch],
                ordered=False,
            )

    async def insert_one() -> None:
        queue = list(range(count, 2 * count))

        async def client() -> None:
            while queue:
                await collection.insert_one(document(queue.pop()))

        await asyncio.gather(*(client() for _ in range(CONCURRENCY)))

    return {
        "insert_many": await rate(count, insert_many),
        "bulk_update": await rate(count, bulk_update),
        "find_in": await rate(count, find_in),
        "insert_many_small": await rate(count, insert_many_small),
        "bulk_update_grown_doc": await rate(count, bulk_update_grown),
        "insert_one": await rate(count, insert_one),
    }


def ceilings(per_second: dict[str, float], raw_consume: dict[int, float]) -> dict[str, dict[str, float | bool]]:
    out: dict[str, dict[str, float | bool]] = {}
    for unit, operations in OPERATIONS.items():
        seconds = sum(times / per_second[kind] for kind, times in operations)
        ceiling = 1 / seconds
        raw = raw_consume[RAW_PREFETCH[unit]]
        out[unit] = {
            "raw_consume_per_s": raw,
            "store_ms_per_unit": round(seconds * 1000, 3),
            "store_only_ceiling_per_s": round(ceiling, 1),
            "best_ratio_to_raw": round(ceiling / raw, 3),
            "target": TARGETS[unit],
            "target_reachable_on_this_store": ceiling / raw >= TARGETS[unit],
        }
    return out


async def main() -> dict[str, Any]:
    count = int(os.environ.get("BENCH_STORE_DOCS", "4000"))
    workdir = Path(tempfile.mkdtemp(prefix="jijiao-bench-store-"))
    group = ProcessGroup(workdir / "log")
    try:
        url = os.environ.get("MONGODB_URL") or spawn_store(group, free_port(), workdir)
        client: AsyncMongoClient[Doc] = AsyncMongoClient(url, tz_aware=True)
        name = f"bs{uuid.uuid4().hex[:8]}"
        per_second = await measure(client[name]["documents"], client[name]["inbox"], count)
        await client.drop_database(name)
        await client.close()
        raw = {
            prefetch: (await raw_broker_rates(RABBITMQ_URL, count * 5, prefetch=prefetch))["raw_consume_per_second"]
            for prefetch in sorted(set(RAW_PREFETCH.values()))
        }
        limits = ceilings(per_second, raw)
        summary: dict[str, Any] = {f"{kind}_per_s": value for kind, value in per_second.items()}
        summary.update({f"raw_consume_prefetch_{prefetch}_per_s": value for prefetch, value in raw.items()})
        for unit, figures in limits.items():
            summary[f"{unit}_best_ratio_to_raw"] = figures["best_ratio_to_raw"]
        return {
            "summary": summary,
            "per_second": per_second,
            "broker_raw_consume_by_prefetch": raw,
            "ceilings": limits,
            "operations_per_unit": OPERATIONS,
            "documents_per_measurement": count,
        }
    finally:
        group.stop()
        shutil.rmtree(workdir, ignore_errors=True)
