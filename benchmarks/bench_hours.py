"""Hours bank: replay a year of one district through RabbitMQ, then verify every teacher.

N teachers (``TeacherRegistered``), F hour facts (``ResultRegistered``, passed, across platform
courses in all three categories, school-based training (capped at 18) and training classes) and P
points facts (``PointsFactRecorded`` across the twelve rules, with duplicates) are published as a
backlog into the hours queue; then the hours worker is started and the backlog drains. Reported:
events per second while draining, the broker's raw consume rate measured in the same run (the same
number of raw messages on a scratch quorum queue, aio-pika, manual acks, the worker's prefetch: two
batches, ``CONSUMER_BATCH_SIZE`` from the environment as the worker reads it), their
ratio (target >= 0.30), and the time of the annual verification of all N teachers through the API
(``POST /v1/verifications/{year}/run``, target < 60 s).

Only the hours processes (API + worker) and their own embedded store run, so the figure is the hours
service's and not the other consumers'. Counts: ``BENCH_HOURS_TEACHERS`` (10,000), ``BENCH_HOURS_FACTS``
(60,000), ``BENCH_HOURS_POINTS`` (200,000), ``BENCH_HOURS_RAW`` (raw messages, default = all events).
``BENCH_HOURS_VERIFY_ONLY=1`` measures only the verification of N teachers over F ledger entries
(written in-process with the consumer's batch path; no broker)."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aio_pika
import httpx
from pymongo import AsyncMongoClient

from benchmarks._measure import raw_broker_rates
from hours.adapters.mongo import ensure_indexes
from hours.bootstrap import build
from hours.entrypoints.worker import create_worker
from hours.service_layer.batch import BatchHandlers
from hours.service_layer.crediting import BatchCrediting
from hours.service_layer.points import BatchAwards
from hours.settings import Settings
from jijiao_contracts import DELIVERY_LIMIT, Envelope, Topology
from jijiao_contracts.enums import HourCategory
from jijiao_contracts.events.enrollment import ResultRegistered, TeacherRegistered
from jijiao_contracts.events.studio import PointsFactRecorded
from jijiao_kit.auth import TokenIssuer, load_or_create_keypair
from jijiao_kit.consuming import EventDispatcher, Inbox
from jijiao_kit.messaging import declare_topology, make_broker
from jijiao_stack.processes import ProcessGroup, api_command, free_port, spawn_store, wait_ready, worker_command
from jijiao_stack.pytest_plugin import InfraUrls, cleanup_prefix

YEAR = 2026
SENTINEL = "sentinel"
PREFETCH = 32
WINDOW = 500
RABBITMQ_URL = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
RULES = [
    "shared_resource",
    "discussion_topic",
    "workshop_founded",
    "activity_segment_created",
    "excellent_resource",
    "popular_topic",
    "activity_participation",
    "assignment_recommended",
    "active_workshop_host",
    "active_workshop_participant",
    "workshop_featured_host",
    "workshop_featured_participant",
]
HOUR_KINDS = [
    ("platform_course", HourCategory.PUBLIC),
    ("platform_course", HourCategory.PROFESSIONAL),
    ("platform_course", HourCategory.ELECTIVE),
    ("school_based", HourCategory.ELECTIVE),
    ("training_class", HourCategory.PROFESSIONAL),
]


def ce(index: int) -> str:
    return f"2026{index:06d}"


def generate(teachers: int, facts: int, points: int, rnd: random.Random) -> list[Envelope]:
    events: list[Envelope] = []
    for i in range(teachers):
        school = f"s{i // 100}"
        events.append(
            Envelope.wrap(
                TeacherRegistered(
                    ce_number=ce(i),
                    name=f"教师{i}",
                    school_id=school,
                    school_name=f"学校{school}",
                    district="天河区",
                    registered_year=YEAR,
                ),
                producer="enrollment",
            )
        )
    for j in range(facts):
        i = j % teachers
        source, category = rnd.choice(HOUR_KINDS)
        events.append(
            Envelope.wrap(
                ResultRegistered(
                    result_id=f"r{j}",
                    term="2602",
                    year=YEAR,
                    ce_number=ce(i),
                    school_id=f"s{i // 100}",
                    district="天河区",
                    course_code=f"C{j % 400}",
                    course_name="课程",
                    programme="city",
                    passed=rnd.random() > 0.05,
                    category=category,
                    hours=float(rnd.choice([2, 4, 6, 8, 12, 24])),
                    source=source,
                    registered_by="institution:bench",
                ),
                producer="enrollment",
            )
        )
    for k in range(points):
        i = k % teachers
        rule = rnd.choice(RULES)
        events.append(
            Envelope.wrap(
                PointsFactRecorded(
                    fact_id=f"p{k}",
                    ce_number=ce(i),
                    rule=rule,
                    reference=f"ref{rnd.randrange(max(points // teachers, 1) * 2)}",
                    year=YEAR,
                ),
                producer="studio",
            )
        )
    events.append(
        Envelope.wrap(
            TeacherRegistered(
                ce_number=SENTINEL,
                name="sentinel",
                school_id="s-end",
                school_name="end",
                district="天河区",
                registered_year=YEAR,
            ),
            producer="enrollment",
        )
    )
    return events


async def publish(url: str, topology: Topology, events: list[Envelope]) -> float:
    connection = await aio_pika.connect_robust(url)
    started = time.perf_counter()
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(topology.events_exchange)
        for start in range(0, len(events), WINDOW):
            await asyncio.gather(
                *(
                    exchange.publish(
                        aio_pika.Message(
                            e.model_dump_json().encode(),
                            message_id=e.event_id,
                            content_type="application/json",
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        routing_key=e.routing_key,
                    )
                    for e in events[start : start + WINDOW]
                )
            )
    return time.perf_counter() - started


async def queue_depth(url: str, name: str, *, purge: str | None = None) -> int:
    """Ready messages in ``name``; optionally purges ``purge`` (the hours-only system has no consumer of
    the hours service's own events, so they pile up in the unrouted queue and would load the broker)."""
    connection = await aio_pika.connect(url, timeout=30)
    async with connection:
        channel = await connection.channel()
        queue = await asyncio.wait_for(channel.declare_queue(name, passive=True), 30)
        if purge:
            unrouted = await asyncio.wait_for(channel.declare_queue(purge, passive=True), 30)
            await asyncio.wait_for(unrouted.purge(), 30)
        return int(queue.declaration_result.message_count or 0)


async def verification_only(teachers: int, facts: int) -> dict[str, Any]:
    """Annual verification of ``teachers`` teachers over a ledger of ``facts`` entries written with the
    consumer's batch path, in-process (no broker): the verification figure on its own."""
    workdir = Path(tempfile.mkdtemp(prefix="jijiao-bench-hours-"))
    group = ProcessGroup(workdir / "log")
    try:
        mongodb_url = spawn_store(group, free_port(), workdir)
        container = build(
            Settings(
                mongodb_url=mongodb_url,
                rabbitmq_url=RABBITMQ_URL,
                redis_url=REDIS_URL,
                name_prefix=f"bv{uuid.uuid4().hex[:8]}",
                keys_dir=workdir / "keys",
            )
        )
        await ensure_indexes(container.infra.db)
        events = generate(teachers, facts, 0, random.Random(2026))
        handlers = BatchHandlers(container.teachers, BatchCrediting(container.bank), BatchAwards(container.points))
        fill_started = time.perf_counter()
        for start in range(0, len(events), 500):
            await handlers.handle(events[start : start + 500], EventDispatcher(), Inbox(container.infra.db))
        fill_seconds = time.perf_counter() - fill_started
        started = time.perf_counter()
        run = await container.verification.run(YEAR, by="bench")
        seconds = time.perf_counter() - started
        rerun_started = time.perf_counter()
        rerun = await container.verification.run(YEAR, by="bench")
        rerun_seconds = time.perf_counter() - rerun_started
        ledger = await container.infra.db["ledger"].count_documents({})
        await container.infra.close()
        return {
            "summary": {
                "verification_teachers": run["teachers"],
                "verification_seconds": round(seconds, 2),
                "verification_target_met": seconds < 60,
                "rerun_seconds": round(rerun_seconds, 2),
                "rerun_changed": rerun["changed"],
            },
            "ledger_entries": ledger,
            "fill_events_per_second_in_process": round(len(events) / fill_seconds, 1),
            "verification": run,
        }
    finally:
        group.stop()
        shutil.rmtree(workdir, ignore_errors=True)


async def main() -> dict[str, Any]:
    if os.environ.get("BENCH_HOURS_VERIFY_ONLY"):
        return await verification_only(
            int(os.environ.get("BENCH_HOURS_TEACHERS", "10000")), int(os.environ.get("BENCH_HOURS_FACTS", "60000"))
        )
    teachers = int(os.environ.get("BENCH_HOURS_TEACHERS", "10000"))
    facts = int(os.environ.get("BENCH_HOURS_FACTS", "60000"))
    points = int(os.environ.get("BENCH_HOURS_POINTS", "200000"))
    total = teachers + facts + points + 1  # + the sentinel
    raw_count = int(os.environ.get("BENCH_HOURS_RAW", str(total)))
    prefix = f"bh{uuid.uuid4().hex[:8]}"
    workdir = Path(tempfile.mkdtemp(prefix="jijiao-bench-hours-"))
    group = ProcessGroup(workdir / "log")
    topology = Topology(prefix)
    mongodb_url = ""
    try:
        mongodb_url = spawn_store(group, free_port(), workdir)
        keys_dir = workdir / "keys"
        keys = load_or_create_keypair(keys_dir, "auth")
        settings = Settings(
            mongodb_url=mongodb_url,
            rabbitmq_url=RABBITMQ_URL,
            redis_url=REDIS_URL,
            name_prefix=prefix,
            keys_dir=keys_dir,
        )
        routing_keys = create_worker(build(settings)).routing_keys
        broker = make_broker(RABBITMQ_URL, prefetch_count=PREFETCH, app_id="bench")
        await broker.connect()
        await declare_topology(
            broker, topology, service="hours", routing_keys=routing_keys, delivery_limit=DELIVERY_LIMIT
        )
        await broker.stop()

        # the raw consumer gets the worker's prefetch (two batches: see hours.settings)
        raw = await raw_broker_rates(RABBITMQ_URL, raw_count, prefetch=settings.prefetch_count)
        events = generate(teachers, facts, points, random.Random(2026))
        publish_seconds = await publish(RABBITMQ_URL, topology, events)
        queue = topology.service_queue("hours")
        assert await queue_depth(RABBITMQ_URL, queue) == total, "backlog not complete"

        port = free_port()
        env = {
            **os.environ,
            "MONGODB_URL": mongodb_url,
            "RABBITMQ_URL": RABBITMQ_URL,
            "REDIS_URL": REDIS_URL,
            "NAME_PREFIX": prefix,
            "HTTP_PORT": str(port),
            "KEYS_DIR": str(keys_dir),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        started = time.perf_counter()
        group.spawn("hours-worker", worker_command("hours"), env)
        first_seen = None
        while True:
            depth = await queue_depth(RABBITMQ_URL, queue, purge=topology.unrouted_queue)
            if first_seen is None and depth < total:
                first_seen = time.perf_counter()
            if depth == 0:
                break
            if group.dead():
                raise RuntimeError(f"worker died, see {group.log_dir}")
            await asyncio.sleep(2.0)
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url)
        roster = client[f"{prefix}_hours"]["teachers"]
        # The last event of the backlog is a sentinel; the consumer applies batches in queue order, so
        # once its effect is stored every earlier event has been applied.
        while await roster.find_one({"_id": SENTINEL}) is None:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        drained = time.perf_counter()
        drain_seconds = drained - (first_seen or started)
        db = client[f"{prefix}_hours"]
        ledger_entries = await db["ledger"].count_documents({})
        accounts = await db["points_accounts"].count_documents({})

        group.spawn("hours-api", api_command("hours", port), env)
        wait_ready({"hours": f"http://127.0.0.1:{port}"}, 60, group)
        issuer = TokenIssuer(keys.private_pem, issuer="jijiao-enrollment", audience="jijiao", ttl_seconds=3600)
        token = issuer.issue("bench:city", {"roles": ["city_admin"], "scopes": {}})
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=600) as http:
            v_started = time.perf_counter()
            response = await http.post(f"/v1/verifications/{YEAR}/run", headers={"Authorization": f"Bearer {token}"})
            verification_seconds = time.perf_counter() - v_started
            response.raise_for_status()
            run = response.json()
        await client.close()
        rate = total / drain_seconds
        ratio = rate / raw["raw_consume_per_second"]
        summary = {
            "events": total,
            "drain_events_per_second": round(rate, 1),
            "raw_consume_per_second": raw["raw_consume_per_second"],
            "ratio_to_raw": round(ratio, 3),
            "ratio_target_met": ratio >= 0.30,
            "verification_teachers": run["teachers"],
            "verification_seconds": round(verification_seconds, 2),
            "verification_target_met": verification_seconds < 60,
        }
        return {
            "summary": summary,
            "counts": {
                "teachers": teachers,
                "hour_facts": facts,
                "points_facts": points,
                "ledger_entries": ledger_entries,
                "points_accounts": accounts,
            },
            "consumer_batch_size": settings.consumer_batch_size,
            "prefetch": settings.prefetch_count,
            "publish_seconds": round(publish_seconds, 2),
            "drain_seconds": round(drain_seconds, 2),
            "worker_start_seconds": round((first_seen or started) - started, 2),
            "raw": raw,
            "verification": run,
        }
    finally:
        group.stop()
        await cleanup_prefix(InfraUrls(mongodb_url, RABBITMQ_URL, REDIS_URL), prefix)
        shutil.rmtree(workdir, ignore_errors=True)
