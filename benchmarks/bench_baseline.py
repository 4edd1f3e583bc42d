"""A national year of the research-base programme (issue 15): ~100 zones, 31 bases, 700 batches and
3,500 trainees. Three measured storms through the real baseline API process, each at ``CLIENTS``
concurrent clients: every zone contact submitting demands at the opening (the first minute), the
centre allocating every batch (and some beyond the zones' quotas), the zone contacts adding their
trainees (and some beyond 5 per batch). Reports throughput, p50/p99 latency, exact final counts
(re-read from the store after each storm) and the ratio to the store-only ceiling of the same step:
the store commands that step issues, replayed with the same concurrency on the same store and
nothing else (see bench_store.py and docs/PERFORMANCE.md for the method).

Sizes: ``BENCH_BASELINE_ZONES`` (100), ``BENCH_BASELINE_BASES`` (31), ``BENCH_BASELINE_CLIENTS`` (100),
``BENCH_BASELINE_DEMANDS_PER_ZONE`` (6). Batches are 7 per zone (700), trainees 5 per batch (3,500)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from pymongo import AsyncMongoClient, ReturnDocument

from benchmarks._measure import percentile
from benchmarks._system import bench_system
from benchmarks.bench_selection import Connection
from jijiao_kit.auth import TokenIssuer, load_or_create_keypair

STAGES = ("kindergarten", "primary", "junior", "senior")
YEAR = "2030-2031"
Doc = dict[str, Any]


def _env(name: str, default: int) -> int:
    return int(os.environ.get(f"BENCH_BASELINE_{name}", str(default)))


@dataclass
class Op:
    method: str
    path: str
    token: str
    body: bytes
    tag: str


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)


async def storm(base_url: str, ops: list[Op], clients: int, expected: set[int]) -> tuple[float, Tally]:
    tally = Tally()
    queue: asyncio.Queue[Op] = asyncio.Queue()
    for op in ops:
        queue.put_nowait(op)
    host, port = base_url.removeprefix("http://").split(":")

    async def worker() -> None:
        conn = Connection(host, int(port))
        while not queue.empty():
            op = queue.get_nowait()
            started = time.perf_counter()
            try:
                reply = await conn.request(op.method, op.path, {"Authorization": f"Bearer {op.token}"}, op.body)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                tally.unexpected.append(f"{op.tag} transport error {exc!r}")
                continue
            tally.latencies.append(time.perf_counter() - started)
            code = reply.json().get("code", "") if reply.status >= 400 else ""
            tally.statuses[f"{op.tag}:{reply.status}{':' + code if code else ''}"] += 1
            if reply.status not in expected:
                tally.unexpected.append(f"{op.tag} {reply.status} {reply.body[:200]!r}")
        conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - started, tally


def figures(seconds: float, tally: Tally, ops: int) -> Doc:
    return {
        "requests": ops,
        "seconds": round(seconds, 2),
        "requests_per_s": round(ops / seconds, 1),
        "latency_p50_ms": round(percentile(tally.latencies, 50) * 1000, 1),
        "latency_p99_ms": round(percentile(tally.latencies, 99) * 1000, 1),
        "statuses": dict(sorted(tally.statuses.items())),
        "unexpected": tally.unexpected[:10],
    }


async def store_ceiling(url: str, clients: int, count: int, step: Callable[[Any, int], Awaitable[None]]) -> float:
    """The rate of ``step`` (the store commands one request of a storm issues) alone on the store."""
    client: AsyncMongoClient[Doc] = AsyncMongoClient(url, tz_aware=True)
    db = client[f"bc{uuid.uuid4().hex[:8]}"]
    await db["years"].insert_one({"_id": YEAR, "demand_deadline": 0, "rewarded": {}})
    await db["zones"].insert_many([{"_id": f"z{i}", "name": f"z{i}", "contact": {"mobile": "1"}} for i in range(100)])
    await db["stage_places"].insert_many([{"_id": s, "places": 10**9, "free": 10**9} for s in STAGES])
    await db["quotas"].insert_many([{"_id": f"q{i}", "demand_left": 10**9, "allocation_left": 10**9,
                                      "batches_left": 10**9} for i in range(100)])  # fmt: skip
    await db["allocation_demands"].insert_many(
        [{"_id": f"ad{i}", "status": "approved", "unallocated": 10**9, "places": 35} for i in range(100)]
    )
    await db["batches"].insert_many([
        {"_id": f"b{i}", "zones_left": 10**9, "zones": {"z": {"free": 10**9, "count": 0, "confirmed_at": None,
         "trainees": {}}}, "outbox": {}, "outbox_pending": 0} for i in range(count)
    ])  # fmt: skip
    queue = list(range(count))

    async def loop() -> None:
        while queue:
            await step(db, queue.pop())

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(clients)))
    rate = count / (time.perf_counter() - started)
    await client.drop_database(db.name)
    await client.close()
    return rate


async def demand_step(db: Any, i: int) -> None:
    """submit_demand: year, zone, stage reads; quota and stage reservations; the sequence; the insert
    with its outbox entry; the relay's clean-up of that entry."""
    await db["years"].find_one({"_id": YEAR})
    await db["zones"].find_one({"_id": f"z{i % 100}"})
    await db["stage_places"].find_one({"_id": STAGES[i % 4]})
    await db["quotas"].update_one({"_id": f"q{i % 100}", "demand_left": {"$gte": 1}}, {"$inc": {"demand_left": -1}})
    await db["stage_places"].update_one({"_id": STAGES[i % 4], "free": {"$gte": 1}}, {"$inc": {"free": -1}})
    await db["counters"].find_one_and_update(
        {"_id": "demands"}, {"$inc": {"value": 1}}, upsert=True, return_document=ReturnDocument.AFTER
    )
    entry = {"routing_key": "baseline.demand_submitted.v1", "body": "x" * 400}
    await db["demands"].insert_one({"_id": f"d{i}", "zone_id": f"z{i % 100}", "places": 1, "outbox": {"e": entry},
                                    "outbox_pending": 1})  # fmt: skip
    await db["demands"].update_one({"_id": f"d{i}"}, {"$unset": {"outbox.e": ""}, "$inc": {"outbox_pending": -1}})


async def allocation_step(db: Any, i: int) -> None:
    """allocate: batch, demand, zone and year reads; the demand's and the quota's reservations; the batch
    write with its outbox entry; the relay's clean-up of that entry."""
    await db["batches"].find_one({"_id": f"b{i}"})
    await db["allocation_demands"].find_one({"_id": f"ad{i % 100}"})
    await db["zones"].find_one({"_id": f"z{i % 100}"})
    await db["years"].find_one({"_id": YEAR})
    await db["allocation_demands"].update_one(
        {"_id": f"ad{i % 100}", "status": "approved", "unallocated": {"$gte": 5}}, {"$inc": {"unallocated": -5}}
    )
    await db["quotas"].update_one(
        {"_id": f"q{i % 100}", "allocation_left": {"$gte": 5}, "batches_left": {"$gte": 1}},
        {"$inc": {"allocation_left": -5, "batches_left": -1}},
    )
    entry = {"routing_key": "baseline.batch_allocated.v1", "body": "x" * 600}
    await db["batches"].update_one(
        {"_id": f"b{i}", "zones_left": {"$gte": 1}, f"zones.z{i % 100}": {"$exists": False}},
        {
            "$inc": {"zones_left": -1, "outbox_pending": 1},
            "$set": {f"zones.z{i % 100}": {"free": 5}, "outbox.e": entry},
        },
    )
    await db["batches"].update_one({"_id": f"b{i}"}, {"$unset": {"outbox.e": ""}, "$inc": {"outbox_pending": -1}})


async def trainee_step(db: Any, i: int) -> None:
    await db["batches"].find_one({"_id": f"b{i}"})
    await db["years"].find_one({"_id": YEAR})
    await db["batches"].update_one(
        {"_id": f"b{i}", "zones.z.free": {"$gte": 1}, "zones.z.confirmed_at": None},
        {"$inc": {"zones.z.free": -1, "zones.z.count": 1}, "$set": {f"zones.z.trainees.t{i}": {"name": "x" * 40}}},
    )


async def main() -> dict[str, Any]:
    n_zones, n_bases, clients = _env("ZONES", 100), _env("BASES", 31), _env("CLIENTS", 100)
    per_zone = _env("DEMANDS_PER_ZONE", 6)
    n_batches = n_zones * 7
    rng = random.Random(2019)
    with bench_system(seed=False) as system:
        keys = load_or_create_keypair(system.config.var_dir / "keys", "auth")
        issuer = TokenIssuer(keys.private_pem, issuer="jijiao-enrollment", audience="jijiao", ttl_seconds=7200)
        centre = issuer.issue("bench:centre", {"roles": ["base_admin"], "scopes": {}})
        contacts = {f"{i:012x}": issuer.issue(f"bench:zc{i}", {"roles": ["zone_contact"], "scopes": {"zone_id": f"{i:012x}"}})
                    for i in range(1, n_zones + 1)}  # fmt: skip
        base_url = system.urls["baseline"]
        url = system.mongodb_url or ""
        mongo: AsyncMongoClient[Doc] = AsyncMongoClient(url, tz_aware=True)
        db = mongo[f"{system.config.name_prefix}_baseline"]

        # -- setup (not measured): the year through the API; bases, zones, batches and the places per
        # stage written straight to the store (zones through the API would open 100 logins meanwhile).
        now = datetime.now(UTC)
        async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {centre}"}, timeout=60) as c:
            created = await c.post("/v1/years", json={
                "year": YEAR,
                "demand_deadline": (now + timedelta(days=10)).isoformat(),
                "personnel_deadline": (now + timedelta(days=20)).isoformat(),
                "report_deadline": (now + timedelta(days=30)).isoformat(),
            })  # fmt: skip
            assert created.status_code == 201, created.text
        bases: list[Doc] = [{"_id": f"{0xB0000 + i:012x}", "name": f"研修基地{i}", "stage": STAGES[i % 4], "region": "北京",
                  "contact": {"name": "联络员", "mobile": "13800000000", "email": None}} for i in range(n_bases)]  # fmt: skip
        await db["bases"].insert_many(bases)
        await db["zones"].insert_many([{"_id": z, "name": f"实验区{z}", "region": None, "created_at": now,
                                        "contact": {"name": "联系人", "mobile": "13700000000", "email": None}}
                                       for z in contacts])  # fmt: skip
        start = date(2030, 9, 2)
        batches = []
        places: Counter[str] = Counter()
        for i in range(n_batches):
            base = bases[i % n_bases]
            starts = start + timedelta(days=14 * (i // n_bases))
            batches.append({"_id": f"{0xBA0000 + i:012x}", "year": YEAR, "base_id": base["_id"], "base_name": base["name"],
                            "stage": base["stage"], "starts_on": starts.isoformat(),
                            "ends_on": (starts + timedelta(days=13)).isoformat(), "start_ms": i, "end_ms": i,
                            "capacity": 1, "zones_left": 1, "zones": {}, "created_at": now})  # fmt: skip
            places[base["stage"]] += 5
        await db["batches"].insert_many(batches)
        await db["stage_places"].insert_many([{"_id": f"{YEAR}:{s}", "year": YEAR, "stage": s, "places": n,
                                               "free": n} for s, n in places.items()])  # fmt: skip

        # -- storm 1: the opening minute, every zone contact submits demands -------------------------
        demand_ops = []
        for token in contacts.values():
            for _ in range(per_zone):
                body = {"stage": rng.choice(STAGES), "places": rng.randint(3, 8), "purpose": "学习课程改革经验",
                        "demand_type": "exchange"}  # fmt: skip
                demand_ops.append(Op("POST", f"/v1/years/{YEAR}/demands", token, json.dumps(body).encode(), "demand"))
        rng.shuffle(demand_ops)
        seconds, tally = await storm(base_url, demand_ops, clients, {201, 409})
        demands_result = figures(seconds, tally, len(demand_ops))
        stored = [d async for d in db["demands"].find({"year": YEAR}, {"zone_id": 1, "stage": 1, "places": 1})]
        by_zone: Counter[str] = Counter()
        by_stage: Counter[str] = Counter()
        for d in stored:
            by_zone[d["zone_id"]] += d["places"]
            by_stage[d["stage"]] += d["places"]
        quotas = {q["zone_id"]: q async for q in db["quotas"].find({"year": YEAR})}
        stages = {s["stage"]: s async for s in db["stage_places"].find({"year": YEAR})}
        demands_result["exact"] = {
            "accepted_equals_stored": sum(v for k, v in tally.statuses.items() if k.startswith("demand:201"))
            == len(stored),
            "no_zone_beyond_35": max(by_zone.values(), default=0) <= 35,
            "zone_counters_exact": all(35 - quotas[z]["demand_left"] == by_zone[z] for z in quotas),
            "stage_counters_exact": all(s["places"] - s["free"] == by_stage[st] for st, s in stages.items()),
            "sequences_unique": len({d["_id"] for d in stored}) == len(stored),
        }

        # -- storm 2: the centre allocates every batch (7 per zone) and one more per zone (refused) --
        # Each allocation answers an approved demand of its zone and the batch's stage: set up here (the
        # review is not part of the storm), one per zone and stage, large enough that the zone's quota
        # (7 batches, 35 places) is what binds.
        zones = list(contacts)
        allocation_demand = {
            (z, s): f"{0xDE0000 + k:012x}" for k, (z, s) in enumerate((z, s) for z in zones for s in STAGES)
        }
        await db["demands"].insert_many([{"_id": d, "year": YEAR, "zone_id": z, "stage": s, "places": 35,
                                          "purpose": "分配", "demand_type": "exchange", "remark": None, "sequence": 0,
                                          "status": "approved", "unallocated": 35, "submitted_at": now,
                                          "submitted_by": "bench"} for (z, s), d in allocation_demand.items()])  # fmt: skip
        allocation_ops = []
        for i, batch in enumerate(batches):
            demand_id = allocation_demand[(zones[i % n_zones], batch["stage"])]
            payload = json.dumps({"demand_id": demand_id, "places": 5}).encode()
            allocation_ops.append(Op("POST", f"/v1/batches/{batch['_id']}/allocations", centre, payload, "allocate"))
        # The extra requests go in a second wave: mixed into the first, an extra for zone i could win the
        # batch planned for zone i+1 before that zone's own request, leaving a batch of zone i without a
        # zone (a fault of the plan: the service refused with 409 as it should).
        extra_ops = []
        for i, zone in enumerate(zones):  # the 8th batch of a zone: quota_exhausted (or batch_full)
            target_batch = batches[(i + 1) % n_batches]
            payload = json.dumps({"demand_id": allocation_demand[(zone, target_batch["stage"])], "places": 5}).encode()
            target = target_batch["_id"]
            extra_ops.append(Op("POST", f"/v1/batches/{target}/allocations", centre, payload, "allocate_extra"))
        rng.shuffle(allocation_ops)
        rng.shuffle(extra_ops)
        seconds, tally = await storm(base_url, allocation_ops, clients, {201, 409})
        extra_seconds, extra_tally = await storm(base_url, extra_ops, clients, {409})
        tally.statuses.update(extra_tally.statuses)
        tally.latencies.extend(extra_tally.latencies)
        tally.unexpected.extend(extra_tally.unexpected)
        allocation_ops += extra_ops
        allocation_result = figures(seconds + extra_seconds, tally, len(allocation_ops))
        stored_batches = [b async for b in db["batches"].find({"year": YEAR}, {"zones_left": 1, "zones": 1})]
        allocated = Counter(z for b in stored_batches for z in (b.get("zones") or {}))
        quotas = {q["zone_id"]: q async for q in db["quotas"].find({"year": YEAR})}
        used_demands = [d async for d in db["demands"].find({"_id": {"$in": list(allocation_demand.values())}})]
        allocation_result["exact"] = {
            "every_batch_at_capacity": all(b["zones_left"] == 0 and len(b["zones"]) == 1 for b in stored_batches),
            "seven_batches_per_zone": set(allocated.values()) == {7},
            "zone_batch_counters_exact": all(quotas[z]["batches_left"] == 0 for z in zones),
            "demand_counters_exact": sum(35 - d["unallocated"] for d in used_demands) == 5 * sum(allocated.values()),
        }

        # -- storm 3: 5 trainees per allocated batch, plus one too many per batch (refused) ----------
        trainee_ops = []
        for b in stored_batches:
            if len(b.get("zones") or {}) != 1:
                continue  # reported by allocation exact.every_batch_at_capacity
            (zone,) = b["zones"]
            for k in range(6):
                body = {"name": f"研修{k}", "gender": "female", "post": "教师", "mobile": f"139{k:08d}",
                        "employer": "实验学校", "subject": "语文", "role": "leader" if k == 0 else "member"}  # fmt: skip
                path = f"/v1/batches/{b['_id']}/zones/{zone}/trainees"
                trainee_ops.append(Op("POST", path, contacts[zone], json.dumps(body).encode(), "trainee"))
        rng.shuffle(trainee_ops)
        seconds, tally = await storm(base_url, trainee_ops, clients, {201, 409})
        trainee_result = figures(seconds, tally, len(trainee_ops))
        counts = [z["count"] for b in [x async for x in db["batches"].find({"year": YEAR}, {"zones": 1})]
                  for z in b["zones"].values()]  # fmt: skip
        trainee_result["exact"] = {
            "five_per_batch": set(counts) == {5},
            "trainees_total": sum(counts),
            "accepted_equals_stored": tally.statuses.get("trainee:201", 0) == sum(counts),
        }
        await mongo.close()

        # -- the store-only ceiling of each step, measured on the same store with the same clients ----
        ceiling = {
            "demand": await store_ceiling(url, clients, len(demand_ops), demand_step),
            "allocation": await store_ceiling(url, clients, len(allocation_ops), allocation_step),
            "trainee": await store_ceiling(url, clients, len(trainee_ops), trainee_step),
        }
    steps = {"demand": demands_result, "allocation": allocation_result, "trainee": trainee_result}
    for name, result in steps.items():
        result["store_only_ceiling_per_s"] = round(ceiling[name], 1)
        result["ratio_to_ceiling"] = round(result["requests_per_s"] / ceiling[name], 3)
        result["target_ratio_50pct_met"] = result["ratio_to_ceiling"] >= 0.5
        result["target_p99_under_1s_met"] = result["latency_p99_ms"] < 1000
    summary: dict[str, Any] = {"zones": n_zones, "bases": n_bases, "batches": n_batches, "clients": clients}
    for name, result in steps.items():
        summary[f"{name}_per_s"] = result["requests_per_s"]
        summary[f"{name}_p99_ms"] = result["latency_p99_ms"]
        summary[f"{name}_ratio_to_ceiling"] = result["ratio_to_ceiling"]
        summary[f"{name}_exact"] = all(v is True for v in result["exact"].values() if isinstance(v, bool))
    summary["trainees"] = trainee_result["exact"]["trainees_total"]
    return {"summary": summary, **steps}
