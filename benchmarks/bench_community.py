"""Research community (issue 14): a day of community activity, in process on its own embedded store.

T teachers (``BENCH_COMMUNITY_TEACHERS``, 10,000 at full scale) at C concurrent clients
(``BENCH_COMMUNITY_CLIENTS``, 100): each active teacher shares a resource (one in ten shares a file
shared before, which earns nothing), rates others' resources, and the posts follow the 1602 term's ratio
of about four per active teacher (topics and replies). Every behaviour goes through the studio's service
layer (the use cases and their conditional writes; no HTTP, no relay), so the figure is the community's
own cost. Reported: operations per second, p99 latency, points facts written per second, and the ratio
of the operation rate to the store-only ceiling of the writes those operations need (each operation is
about one read and one conditional single-document write; measured in the same run as that many
``find_one`` + ``update_one`` pairs at the same concurrency). Facts reach the hours bank through the
relay (bench_hours measures that path). Targets: ratio >= 50 %, p99 < 1 s."""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks._measure import percentile
from jijiao_kit.auth import Principal
from jijiao_kit.errors import AppError
from jijiao_stack import samples
from jijiao_stack.processes import ProcessGroup, free_port, spawn_store
from studio.adapters import mongo
from studio.adapters.community import OUTBOX_COLLECTIONS
from studio.bootstrap import build
from studio.domain.community import PostKind
from studio.settings import Settings

Doc = dict[str, Any]


def teacher(ce: str) -> Principal:
    return Principal(subject=f"b{ce}", roles=frozenset({"teacher"}), scopes={"ce_number": ce})


def pdf(n: int) -> bytes:
    """A distinct small PDF per ``n`` (a real one: the upload check parses it)."""
    return samples.pdf(f"{n}")


async def bounded(calls: list[Any], clients: int, refusals: Counter[str] | None = None) -> list[float]:
    """Run the calls (zero-argument coroutine factories) with ``clients`` at a time; their latencies.
    Refusals are counted by problem code in ``refusals`` (none may be ``rate_limited``: the default
    per-teacher limits are far above a bench teacher's day)."""
    latencies: list[float] = []
    queue = list(reversed(calls))

    async def client() -> None:
        while queue:
            call = queue.pop()
            started = time.perf_counter()
            try:
                await call()
            except AppError as error:  # a refusal (e.g. a rating of one's own resource) is an answer too
                if refusals is not None:
                    refusals[error.code] += 1
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


async def store_ceiling(db: Any, count: int, clients: int) -> float:
    """find_one + conditional update_one pairs per second at the same concurrency (the operations' floor)."""
    col = db["bench_ceiling"]
    await col.insert_many([{"_id": i, "n": 0} for i in range(100)])

    def pair(i: int) -> Any:
        async def run() -> None:
            doc = await col.find_one({"_id": i % 100})
            await col.update_one({"_id": i % 100, "n": doc["n"] if doc else 0}, {"$inc": {"n": 1}})

        return run

    started = time.perf_counter()
    await bounded([pair(i) for i in range(count)], clients)
    return count / (time.perf_counter() - started)


async def expected_facts(db: Any) -> dict[str, int]:
    """The facts the stored data implies, counted from the posts and files themselves (the rules
    replayed, not the counters that produced the facts): one per distinct content shared, one per
    topic with 10 or more distinct repliers and one per topic with 20 or more distinct participants (the
    author not counted), one per excellent resource. Which teacher replies to which topic depends on
    the order topics were created in, so the figure may move by one between runs; it must match."""
    authors = {t["_id"]: t["author_ce_number"] async for t in db["topics"].find({}, {"author_ce_number": 1})}
    repliers: dict[str, set[str]] = {}
    participants: dict[str, set[str]] = {}
    async for post in db["posts"].find({"hidden": False}, {"topic_id": 1, "ce_number": 1, "kind": 1}):
        if post["ce_number"] == authors.get(post["topic_id"]):
            continue
        participants.setdefault(post["topic_id"], set()).add(post["ce_number"])
        if post["kind"] == "reply":
            repliers.setdefault(post["topic_id"], set()).add(post["ce_number"])
    fingerprints = {r["fingerprint"] async for r in db["resources"].find({}, {"fingerprint": 1})}
    excellent = await db["resources"].count_documents({"excellent": True})
    expected = {
        "shared_resource": len(fingerprints),
        "discussion_topic": sum(len(r) >= 10 for r in repliers.values()),
        "popular_topic": sum(len(p) >= 20 for p in participants.values()),
        "excellent_resource": excellent,
    }
    return {rule: n for rule, n in expected.items() if n}


async def main() -> dict[str, Any]:
    teachers = int(os.environ.get("BENCH_COMMUNITY_TEACHERS", "10000"))
    clients = int(os.environ.get("BENCH_COMMUNITY_CLIENTS", "100"))
    workdir = Path(tempfile.mkdtemp(prefix="jijiao-bench-community-"))
    group = ProcessGroup(workdir / "log")
    try:
        url = os.environ.get("MONGODB_URL") or spawn_store(group, free_port(), workdir)
        prefix = f"bc{uuid.uuid4().hex[:8]}"
        settings = Settings(mongodb_url=url, name_prefix=prefix, community_files_dir=workdir / "files")
        container = build(settings)
        await mongo.ensure_indexes(container.infra.db)
        svc = container.community
        rng = random.Random(1602)
        ces = [f"9{n:07d}" for n in range(teachers)]
        active = ces[: max(teachers // 2, 2)]

        # The files are made before the clock starts (making a real PDF is the bench's cost, not the service's).
        files = {n: pdf(n) for n in range(len(active)) if n % 10}
        files[0] = pdf(0)
        shares = [
            (
                lambda ce=ce, n=n: svc.share(
                    teacher(ce), title=f"资源{n}", description="", filename="r.pdf", data=files[n if n % 10 else 0]
                )
            )
            for n, ce in enumerate(active)
        ]
        refusals: Counter[str] = Counter()
        started = time.perf_counter()
        latencies = await bounded(shares, clients, refusals)
        resources = [d["_id"] for d in await svc.resources.listing({}, limit=len(active))]
        topic_authors = active[: max(len(active) // 10, 1)]
        topics: list[str] = []

        async def open_topic(ce: str) -> None:
            topics.append((await svc.create_topic(teacher(ce), f"话题{ce}", "<p>讨论</p>"))["_id"])

        latencies += await bounded([lambda ce=ce: open_topic(ce) for ce in topic_authors], clients, refusals)
        ratings = [
            (lambda ce=ce, rid=rng.choice(resources): svc.rate(teacher(ce), rid, rng.randint(2, 5)))
            for ce in active
            for _ in range(2)
        ]
        posts = [
            (lambda ce=ce, tid=rng.choice(topics): svc.post(teacher(ce), tid, PostKind.REPLY, "<p>回复</p>"))
            for ce in active
            for _ in range(3)  # with the topics: about four posts per active teacher
        ]
        mixed = ratings + posts
        rng.shuffle(mixed)
        latencies += await bounded(mixed, clients, refusals)
        seconds = time.perf_counter() - started
        operations = len(latencies)

        by_rule: Counter[str] = Counter()
        for name in OUTBOX_COLLECTIONS:
            async for doc in container.infra.db[name].find({"outbox_pending": {"$gt": 0}}, {"outbox": 1}):
                for e in (doc.get("outbox") or {}).values():
                    body = json.loads(e["body"])
                    if body["type"] == "studio.points_fact_recorded":
                        by_rule[body["payload"]["rule"]] += 1
        facts = sum(by_rule.values())
        expected = await expected_facts(container.infra.db)
        ceiling = await store_ceiling(container.infra.db, min(operations, 5000), clients)
        per_second = operations / seconds
        summary = {
            "teachers": teachers,
            "clients": clients,
            "operations": operations,
            "operations_per_s": round(per_second, 1),
            "p99_seconds": round(percentile(latencies, 99), 4),
            "facts": facts,
            "facts_per_s": round(facts / seconds, 1),
            "refusals": dict(sorted(refusals.items())),
            "facts_by_rule": dict(sorted(by_rule.items())),
            "exact": dict(by_rule) == expected,
            "store_ceiling_ops_per_s": round(ceiling, 1),
            "ratio_to_store_ceiling": round(per_second / ceiling, 3),
        }
        await container.infra.mongo.drop_database(settings.database_name)
        await container.infra.close()
        return {"summary": summary}
    finally:
        group.stop()
        shutil.rmtree(workdir, ignore_errors=True)
