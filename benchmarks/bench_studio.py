"""Studio recruitment and check-in storms (issue 13), in process on a private store.

Steps: (1) ``STUDIOS`` studios and ``APPLICANTS`` teachers applying with three preferences each, at
``CLIENTS`` concurrent clients; (2) every host deciding all round-1 applications to their studio at once
(admit until full, the rest refused by the store-enforced quota); (3) ``CHECKINS`` members scanning one
offline activity's QR token at once. For each step: throughput, p50/p95/p99 latency, the exact final
counts, and the ratio to the store-only ceiling of the document operations the step needs (the
``bench_store`` method, docs/PERFORMANCE.md): single commands at the same concurrency are measured on
the same store in the same run, and the ceiling is the rate at which those operations alone saturate it.

The use cases run through the service layer (the routes only translate), not through HTTP: the figure is
the service's own cost over the store's. The check-in studio's member maximum is raised in the store
for step 3 (no studio type admits 300 members), so 300 distinct members exist.

Scale: ``BENCH_STUDIO_STUDIOS`` (200), ``BENCH_STUDIO_APPLICANTS`` (5000), ``BENCH_STUDIO_CLIENTS`` (100),
``BENCH_STUDIO_CHECKINS`` (300)."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from benchmarks._measure import percentile
from jijiao_kit.auth import Principal
from jijiao_kit.clock import FixedClock
from jijiao_kit.errors import AppError
from jijiao_kit.timeutil import epoch_ms
from jijiao_stack.processes import ProcessGroup, free_port, spawn_store
from studio.adapters import mongo
from studio.bootstrap import build
from studio.domain.recruitment import ApplicantRole, Decision
from studio.domain.studios import StudioType
from studio.service_layer.recruitment import NewApplication, NewRecruitment
from studio.service_layer.studios import NewStudio
from studio.settings import Settings

CITY = Principal(subject="bench", roles=frozenset({"city_admin"}))
FORM = {"stage": "小学", "subject": "语文", "title": "一级教师", "age": 35, "teaching_years": 10}
T0 = datetime(2026, 3, 1, tzinfo=UTC)
# Store commands per unit of work, read from the use cases: (kind, count).
OPERATIONS: dict[str, list[tuple[str, int]]] = {
    # recruitment, preferred studios ($in), directory entry; the application insert
    "apply": [("find_one", 3), ("insert_one", 1)],
    # studio, host's membership, application, its recruitment; seat $inc, application update; re-read
    "decide": [("find_one", 5), ("update_one", 2)],
    # studio, caller's membership, open recruitments, activity; the check-in insert. These are the
    # commands one check-in needs when sent alone. Since the group commit (jijiao_kit.coalescing)
    # concurrent check-ins share each of those five commands, so under a storm the rate can pass this
    # single-command ceiling (ratio > 1): the store's per-command cost is what the group commit removes.
    "checkin": [("find_one", 4), ("insert_one", 1)],
}


def teacher(ce: str) -> Principal:
    return Principal(subject=f"t{ce}", roles=frozenset({"teacher"}), scopes={"ce_number": ce})


async def timed(calls: Sequence[Callable[..., Awaitable[Any]]], clients: int) -> tuple[float, list[float], list[Any]]:
    """Run ``calls`` with ``clients`` concurrent workers: (seconds, latencies, outcomes)."""
    queue = list(enumerate(calls))
    latencies: list[float] = []
    outcomes: list[Any] = [None] * len(calls)

    async def client() -> None:
        while queue:
            index, call = queue.pop()
            started = time.perf_counter()
            try:
                outcomes[index] = await call()
            except AppError as exc:
                outcomes[index] = exc.code
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started, latencies, outcomes


def figures(seconds: float, latencies: list[float], ceiling: float) -> dict[str, float]:
    rate = len(latencies) / seconds if seconds else 0.0
    return {
        "per_second": round(rate, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "store_only_ceiling_per_s": round(ceiling, 1),
        "ratio_to_ceiling": round(rate / ceiling, 3) if ceiling else 0.0,
    }


async def store_rates(url: str, clients: int, count: int) -> dict[str, float]:
    """Single commands at the benchmark's concurrency, on the same store, shaped like the real ones."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True)
    coll = client[f"bs{uuid.uuid4().hex[:8]}"]["docs"]
    ids = [uuid.uuid4().hex for _ in range(count)]
    out: dict[str, float] = {}

    async def run(kind: str, op: Callable[[str], Awaitable[Any]]) -> None:
        queue = list(ids)

        async def worker() -> None:
            while queue:
                await op(queue.pop())

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        out[kind] = count / (time.perf_counter() - started)

    doc = {"form": FORM, "prefs": {"1": "a", "2": "b", "3": "c"}, "status": "pending", "decisions": {}, "outbox": {}}
    await run("insert_one", lambda i: coll.insert_one({"_id": i, **doc}))
    await run("find_one", lambda i: coll.find_one({"_id": i}))
    await run("update_one", lambda i: coll.update_one({"_id": i, "status": "pending"}, {"$set": {"status": "x"}}))
    await client.drop_database(coll.database.name)
    await client.close()
    return out


def ceiling(step: str, rates: dict[str, float]) -> float:
    seconds = sum(count / rates[kind] for kind, count in OPERATIONS[step])
    return 1 / seconds if seconds else 0.0


async def main() -> dict[str, Any]:
    studios_n = int(os.environ.get("BENCH_STUDIO_STUDIOS", "200"))
    applicants_n = int(os.environ.get("BENCH_STUDIO_APPLICANTS", "5000"))
    clients = int(os.environ.get("BENCH_STUDIO_CLIENTS", "100"))
    checkins_n = int(os.environ.get("BENCH_STUDIO_CHECKINS", "300"))
    workdir = Path(tempfile.mkdtemp(prefix="jijiao-bench-studio-"))
    group = ProcessGroup(workdir / "log")
    try:
        url = os.environ.get("MONGODB_URL") or spawn_store(group, free_port(), workdir)
        clock = FixedClock(T0)
        settings = Settings(
            mongodb_url=url,
            name_prefix=f"bst{uuid.uuid4().hex[:6]}",
            keys_dir=workdir / "keys",
            files_dir=workdir / "files",
        )
        container = build(settings, clock=clock)
        db = container.infra.db
        await mongo.ensure_indexes(db)
        hosts = [f"9{n:05d}" for n in range(studios_n)]
        for ce in hosts:
            await container.directory.record(
                ce, {"name": f"主持人{ce}", "school_id": "s", "school_name": "校", "district": "区"}, T0
            )
        sids = [
            str(
                (
                    await container.studios.found(
                        CITY, NewStudio(f"工作室{ce}", StudioType.TEACHER, ce, 2026, 3, None, None)
                    )
                )["_id"]
            )
            for ce in hosts
        ]
        day = timedelta(days=1)
        windows = [(T0 + 2 * k * day, T0 + (2 * k + 1) * day) for k in range(4)]
        rec = await container.recruitment.open(
            CITY, NewRecruitment(2026, windows[0], (windows[1], windows[2], windows[3]))
        )
        rng = random.Random(13)
        applicants = [f"1{n:06d}" for n in range(applicants_n)]
        applies = [
            (
                lambda ce=ce, prefs=rng.sample(sids, min(3, len(sids))): container.recruitment.apply(
                    teacher(ce), rec["id"], NewApplication(ApplicantRole.MEMBER, prefs, FORM)
                )
            )
            for ce in applicants
        ]
        clock.set(T0 + timedelta(hours=1))
        rates = await store_rates(url, clients, min(2000, max(200, applicants_n)))
        apply_s, apply_lat, apply_out = await timed(applies, clients)
        applied = await db[mongo.APPLICATIONS].count_documents({})

        clock.set(windows[1][0] + timedelta(hours=1))
        host_of = dict(zip(sids, hosts, strict=True))
        round1 = [d async for d in db[mongo.APPLICATIONS].find({}, {"_id": 1, "prefs": 1})]
        decisions = [
            (
                lambda sid=d["prefs"]["1"], aid=d["_id"]: container.recruitment.decide(
                    teacher(host_of[sid]), sid, aid, Decision.ADMITTED
                )
            )
            for d in round1
        ]
        decide_s, decide_lat, decide_out = await timed(decisions, clients)
        admitted = await db[mongo.APPLICATIONS].count_documents({"status": "admitted"})
        seats = sum(s["members"] for s in await db[mongo.STUDIOS].find({}).to_list(None))
        full = sum(1 for o in decide_out if o == "studio_full")
        over = await db[mongo.STUDIOS].count_documents({"members": {"$gt": 12}})

        # step 3: one studio with CHECKINS members (its maximum raised in the store), one activity
        sid, host = sids[0], hosts[0]
        await db[mongo.STUDIOS].update_one({"_id": sid}, {"$set": {"member_quota.max": checkins_n + 12}})
        members = [f"2{n:06d}" for n in range(checkins_n)]
        rec2 = await container.recruitment.open(
            CITY,
            NewRecruitment(
                2026,
                (T0 + 10 * day, T0 + 11 * day),
                ((T0 + 11 * day, T0 + 12 * day), (T0 + 12 * day, T0 + 13 * day), (T0 + 13 * day, T0 + 14 * day)),
            ),
        )
        clock.set(T0 + 10 * day + timedelta(hours=1))
        ids = [
            (
                await container.recruitment.apply(
                    teacher(ce), rec2["id"], NewApplication(ApplicantRole.MEMBER, [sid], FORM)
                )
            )["_id"]
            for ce in members
        ]
        clock.set(T0 + 11 * day + timedelta(hours=1))
        for aid in ids:
            await container.recruitment.decide(teacher(host), sid, aid, Decision.ADMITTED)
        acts = container.activities
        stage = await acts.add_stage(teacher(host), sid, "阶段", None)
        start = clock.now()
        activity = await acts.create(
            teacher(host),
            sid,
            {
                "stage_id": stage["_id"],
                "mode": "offline",
                "type": "offline_research",
                "title": "研修",
                "place": "礼堂",
                "hours": 3.0,
                "starts_ms": epoch_ms(start),
                "ends_ms": epoch_ms(start + timedelta(hours=3)),
                "options": {"checkin": {"required": True}},
            },
        )
        await acts.publish(teacher(host), sid, activity["_id"])
        token = (await acts.checkin_token(teacher(host), sid, activity["_id"]))["token"]
        scans = [(lambda ce=ce: acts.check_in(teacher(ce), sid, activity["_id"], token)) for ce in members]
        check_s, check_lat, check_out = await timed(scans, min(clients, len(scans)))
        checked = await db[mongo.PARTS].count_documents({"activity_id": activity["_id"], "part": "checkin"})
        await container.infra.close()

        steps = {
            "apply": figures(apply_s, apply_lat, ceiling("apply", rates)),
            "decide": figures(decide_s, decide_lat, ceiling("decide", rates)),
            "checkin": figures(check_s, check_lat, ceiling("checkin", rates)),
        }
        counts = {
            "studios": studios_n,
            "applications_stored": applied,
            "applications_refused": sum(1 for o in apply_out if isinstance(o, str)),
            "admitted": admitted,
            "member_seats_taken": seats,
            "refused_studio_full": full,
            "studios_over_maximum": over,
            "checkins_accepted": sum(1 for o in check_out if isinstance(o, dict)),
            "checkins_stored": checked,
        }
        summary: dict[str, Any] = {f"{step}_{k}": v for step, f in steps.items() for k, v in f.items()}
        summary.update(counts)
        return {
            "summary": summary,
            "steps": steps,
            "counts": counts,
            "store_single_command_per_s": {k: round(v, 1) for k, v in rates.items()},
            "operations_per_unit": OPERATIONS,
            "clients": clients,
            "scale": {"studios": studios_n, "applicants": applicants_n, "checkins": checkins_n},
        }
    finally:
        group.stop()
        shutil.rmtree(workdir, ignore_errors=True)
