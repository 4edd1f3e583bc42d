"""Selection storm (issue 3): N teachers make M selections (the 1602 ratio 27,000 / 20,000) at C
concurrent clients, with 5 % cancellations and 1 % duplicate retries (same Idempotency-Key, half
of them racing the original request), against a private system started by ``bench_system()``.

Reports throughput, latency percentiles and, measured in the same run against the same store, the
raw single-document insert rate, then checks the final counts exactly.

Scale by environment: BENCH_SELECTION_TEACHERS (20000), BENCH_SELECTION_SELECTIONS (27000),
BENCH_SELECTION_CLIENTS (200), BENCH_SELECTION_COURSES (200), BENCH_SELECTION_RAW_INSERTS (5000),
BENCH_SELECTION_API_WORKERS (unset: one uvicorn process per API, as ``make up``; N sets WEB_CONCURRENCY),
BENCH_SELECTION_PROFILE (set: py-spy collapsed stacks of the enrollment API, its worker and the store)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from benchmarks._measure import percentile
from benchmarks._system import bench_system
from jijiao_kit.auth import TokenIssuer, load_or_create_keypair

TERM = "2602"


def _env(name: str, default: int) -> int:
    return int(os.environ.get(f"BENCH_SELECTION_{name}", default))


@dataclass
class Op:
    ce_number: str
    course_code: str
    key: str
    cancel: bool = False
    duplicate: str | None = None  # None | "after" | "race"


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    made: dict[str, str] = field(default_factory=dict)  # selection id -> course code (active)
    cancelled: int = 0
    replays: int = 0
    transport_retries: int = 0
    in_progress_409: int = 0


async def raw_insert_rate(mongodb_url: str, database: str, count: int, concurrency: int) -> float:
    """The store's single-document insert rate (insert_one of selection-sized documents, same
    concurrency as the storm, unique sparse index as the real collection)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, tz_aware=True)
    collection = client[database]["bench_raw_inserts"]
    await collection.create_index("active_key", unique=True, sparse=True)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)

    async def worker() -> None:
        while not queue.empty():
            index = queue.get_nowait()
            await collection.insert_one(
                {
                    "_id": uuid.uuid4().hex,
                    "term": TERM,
                    "ce_number": f"R{index:07d}",
                    "course_code": f"C{index % 200:04d}",
                    "active_key": f"{TERM}:R{index:07d}:C{index % 200:04d}",
                    "status": "active",
                    "hours": 24,
                    "training_fee_fen": 12000,
                    "created_at": datetime.now(UTC),
                    "outbox": {"x": {"body": "x" * 600}},
                    "outbox_pending": 0,
                }
            )

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await client[database].drop_collection("bench_raw_inserts")
    await client.close()
    return count / elapsed


def plan(teachers: list[str], courses: list[tuple[str, int]], selections: int, rng: random.Random) -> list[Op]:
    """Every place of every course is asked for exactly once; every teacher selects at least once,
    never the same course twice (places are dealt round-robin over courses, a teacher's selections
    get neighbouring places); the execution order is shuffled."""
    remaining = dict(courses)
    places: list[str] = []
    while remaining:
        for code in list(remaining):
            places.append(code)
            remaining[code] -= 1
            if remaining[code] == 0:
                del remaining[code]
    extra = Counter(rng.choice(teachers) for _ in range(selections - len(teachers)))
    owners = [ce for ce in teachers for _ in range(1 + extra.get(ce, 0))]
    ops = [Op(ce, code, uuid.uuid4().hex) for ce, code in zip(owners, places, strict=True)]
    assert len({(op.ce_number, op.course_code) for op in ops}) == len(ops)
    rng.shuffle(ops)
    for op in rng.sample(ops, k=round(len(ops) * 0.05)):
        op.cancel = True
    for index, op in enumerate(rng.sample([op for op in ops if not op.cancel], k=round(len(ops) * 0.01))):
        op.duplicate = "race" if index % 2 else "after"
    return ops


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else {}


class Connection:
    """A minimal keep-alive HTTP/1.1 client connection: the load generator shares the machine's two
    cores with the system, so it must cost as little CPU per request as possible (httpx spent
    more CPU per request than the enrollment API itself)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> Reply:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        if body:
            head.append("Content-Type: application/json")
        head += [f"{name}: {value}" for name, value in headers.items()]
        try:
            self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            status_line = await self.reader.readline()
            if not status_line:
                raise ConnectionError("connection closed")
            status = int(status_line.split()[1])
            reply_headers: dict[str, str] = {}
            while True:
                line = await self.reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                reply_headers[name.strip().lower()] = value.strip()
            length = int(reply_headers.get("content-length", "0"))
            data = await self.reader.readexactly(length) if length else b""
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            self.close()
            raise
        if reply_headers.get("connection", "").lower() == "close":
            self.close()
        return Reply(status, reply_headers, data)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def storm(base_url: str, issuer: TokenIssuer, ops: list[Op], clients: int, tally: Tally) -> float:
    tokens: dict[str, str] = {}

    def token(ce: str) -> str:
        if ce not in tokens:
            tokens[ce] = issuer.issue(f"teacher:{ce}", {"roles": ["teacher"], "scopes": {"ce_number": ce}})
        return tokens[ce]

    for op in ops:
        token(op.ce_number)
    queue: asyncio.Queue[Op] = asyncio.Queue()
    for op in ops:
        queue.put_nowait(op)
    host, port = base_url.removeprefix("http://").split(":")

    async def request(conn: Connection, method: str, path: str, op: Op, body: bytes = b"", **extra: str) -> Reply:
        headers = {"Authorization": f"Bearer {token(op.ce_number)}", **extra}
        started = time.perf_counter()
        for attempt in range(3):
            try:
                reply = await conn.request(method, path, headers, body)
                break
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                # A dropped connection: selections carry an Idempotency-Key and DELETE is
                # idempotent, so the client retries exactly as a real one would.
                tally.transport_retries += 1
                if attempt == 2:
                    tally.unexpected.append(f"{method} transport error {exc!r}")
                    return Reply(599, {}, b"")
        tally.latencies.append(time.perf_counter() - started)
        return reply

    def select(conn: Connection, op: Op) -> Any:
        body = json.dumps({"ce_number": op.ce_number, "course_code": op.course_code}).encode()
        return request(conn, "POST", f"/v1/terms/{TERM}/selections", op, body, **{"Idempotency-Key": op.key})

    def record(reply: Reply, what: str) -> None:
        tally.statuses[f"{what}:{reply.status}"] += 1
        if what == "select_retry" and reply.status == 409 and reply.json().get("code") == "idempotency_in_progress":
            tally.in_progress_409 += 1  # documented answer to a duplicate racing a slow first request
            return
        if reply.status not in (201, 204):
            tally.unexpected.append(f"{what} {reply.status} {reply.body[:200]!r}")

    async def worker() -> None:
        conn, spare = Connection(host, int(port)), Connection(host, int(port))
        while not queue.empty():
            op = queue.get_nowait()
            if op.duplicate == "race":
                first, second = await asyncio.gather(select(conn, op), select(spare, op))
                spare.close()  # an idle keep-alive connection would be closed by the server anyway
                record(first, "select")
                record(second, "select_retry")
                if first.status == 201 and second.status == 201:
                    tally.replays += 1
                    if first.json()["id"] != second.json()["id"]:
                        tally.unexpected.append("race retry returned another selection")
                reply = first
            else:
                reply = await select(conn, op)
                record(reply, "select")
                if op.duplicate == "after":
                    retry = await select(conn, op)
                    record(retry, "select_retry")
                    if retry.status == 201 and retry.headers.get("idempotent-replayed") == "true":
                        tally.replays += 1
                    if retry.status == 201 and retry.json()["id"] != reply.json().get("id"):
                        tally.unexpected.append("retry returned another selection")
            if reply.status != 201:
                continue
            selection_id = reply.json()["id"]
            tally.made[selection_id] = op.course_code
            if op.cancel:
                deleted = await request(conn, "DELETE", f"/v1/terms/{TERM}/selections/{selection_id}", op)
                record(deleted, "cancel")
                if deleted.status == 204:
                    tally.made.pop(selection_id, None)
                    tally.cancelled += 1
        conn.close()
        spare.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - started


OWN_CPU_ONLY = ("bench-client", "rabbitmq")


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU seconds of each system process, its direct children (uvicorn workers when
    WEB_CONCURRENCY > 1) and this client, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}  # pid -> (ppid, seconds)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    result: dict[str, float] = {}
    measured = {**pids, "bench-client": os.getpid()}
    brokers = [pid for pid in stats if _command_name(pid) == "beam.smp"]  # RabbitMQ shares the cores
    if brokers:
        measured["rabbitmq"] = brokers[0]
    for name, pid in measured.items():
        if pid not in stats:
            continue
        children = sum(seconds for ppid, seconds in stats.values() if ppid == pid) if name not in OWN_CPU_ONLY else 0.0
        result[name] = stats[pid][1] + children
    return result


def _command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def start_profilers(pids: dict[str, int]) -> list[subprocess.Popen[bytes]]:
    """BENCH_SELECTION_PROFILE=1: sample the enrollment API, its worker and the store with py-spy
    (collapsed stacks in var/bench/selection_profile_<process>.txt)."""
    if not os.environ.get("BENCH_SELECTION_PROFILE"):
        return []
    Path("var/bench").mkdir(parents=True, exist_ok=True)
    started = []
    for name in ("enrollment-api", "enrollment-worker", "nx-27017"):
        if name in pids:
            out = Path(f"var/bench/selection_profile_{name}.txt")
            started.append(
                subprocess.Popen(
                    [
                        "scripts/uv",
                        "tool",
                        "run",
                        "py-spy",
                        "record",
                        "--pid",
                        str(pids[name]),
                        "--format",
                        "raw",
                        "--rate",
                        "50",
                        "--output",
                        str(out),
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
    time.sleep(1.0)
    return started


def stop_profilers(profilers: list[subprocess.Popen[bytes]]) -> None:
    for process in profilers:
        process.send_signal(signal.SIGINT)
    for process in profilers:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


async def main() -> dict[str, Any]:
    n_teachers = _env("TEACHERS", 20000)
    n_selections = _env("SELECTIONS", 27000)
    clients = _env("CLIENTS", 200)
    n_courses = _env("COURSES", 200)
    raw_inserts = _env("RAW_INSERTS", 5000)
    rng = random.Random(1602)
    capacities = [n_selections // n_courses + (1 if i < n_selections % n_courses else 0) for i in range(n_courses)]
    courses = [(f"26021{i:04d}", capacity) for i, capacity in enumerate(capacities)]

    api_workers = os.environ.get("BENCH_SELECTION_API_WORKERS")
    extra_env = {"WEB_CONCURRENCY": api_workers} if api_workers else {}
    with bench_system(extra_env=extra_env, seed=False) as system:
        keys = load_or_create_keypair(system.config.var_dir / "keys", "auth")
        issuer = TokenIssuer(keys.private_pem, issuer="jijiao-enrollment", audience="jijiao", ttl_seconds=7200)
        base_url = system.urls["enrollment"]
        mongodb_url = system.mongodb_url or ""
        database = f"{system.config.name_prefix}_enrollment"
        city = {"Authorization": "Bearer " + issuer.issue("bench:city", {"roles": ["city_admin"], "scopes": {}})}

        # -- setup (not measured): term, courses through the API; teachers by bulk insert -------
        now = datetime.now(UTC)
        async with httpx.AsyncClient(base_url=base_url, headers=city, timeout=60.0) as client:
            response = await client.post(
                "/v1/terms",
                json={
                    "code": TERM,
                    "year": 2026,
                    "selection_opens_at": (now - timedelta(hours=1)).isoformat(),
                    "selection_closes_at": (now + timedelta(days=1)).isoformat(),
                    "study_starts_on": "2026-10-10",
                    "study_ends_on": "2026-12-10",
                    "payment_due_at": (now + timedelta(days=20)).isoformat(),
                },
            )
            response.raise_for_status()
            for code, capacity in courses:
                response = await client.post(
                    f"/v1/terms/{TERM}/courses",
                    json={
                        "code": code,
                        "name": f"远程课程{code}",
                        "programme": "city",
                        "hour_type": "professional",
                        "hours": 24,
                        "training_fee": "120.00",
                        "material_fee": "0",
                        "course_type": "remote",
                        "payee": "广州市广播电视大学",
                        "subject": "语文",
                        "stage": "primary",
                        "capacity": capacity,
                        "institution_id": "inst-bench",
                    },
                )
                response.raise_for_status()
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, tz_aware=True)
        teachers = [f"B{index:07d}" for index in range(n_teachers)]
        for start in range(0, n_teachers, 1000):
            await mongo[database]["teachers"].insert_many(
                [
                    {
                        "_id": ce,
                        "name": f"教师{ce}",
                        "id_number": f"ID{ce}",
                        "mobile": "13900000000",
                        "school_id": f"school-{index % 400}",
                        "school_name": "学校",
                        "district": "天河区",
                        "status": "active",
                        "special_user": False,
                        "subject": "语文",
                        "stage": "primary",
                        "outbox": {},
                        "outbox_pending": 0,
                    }
                    for index, ce in enumerate(teachers[start : start + 1000], start=start)
                ]
            )
        ops = plan(teachers, courses, n_selections, rng)

        # -- raw store rate, then the storm ------------------------------------------------------
        raw_rate = await raw_insert_rate(mongodb_url, database, raw_inserts, clients)
        tally = Tally()
        profilers = start_profilers(system.group.pids())
        cpu_before = cpu_seconds(system.group.pids())
        elapsed = await storm(base_url, issuer, ops, clients, tally)
        cpu_after = cpu_seconds(system.group.pids())
        stop_profilers(profilers)
        cpu = {
            name: round(cpu_after[name] - cpu_before.get(name, 0.0), 1)
            for name in cpu_after
            if cpu_after[name] - cpu_before.get(name, 0.0) >= 0.1
        }

        # -- exact final counts --------------------------------------------------------------------
        db = mongo[database]
        active = await db["selections"].count_documents({"term": TERM, "status": "active"})
        cancelled = await db["selections"].count_documents({"term": TERM, "status": "cancelled"})
        per_course = {doc["code"]: doc["taken"] async for doc in db["courses"].find({"term": TERM})}
        counted: Counter[str] = Counter()
        async for doc in db["selections"].find({"term": TERM, "status": "active"}, {"course_code": 1}):
            counted[doc["course_code"]] += 1
        over = [code for code, capacity in courses if per_course[code] > capacity]
        mismatched = [code for code, _ in courses if per_course[code] != counted.get(code, 0)]
        expected_cancel = sum(1 for op in ops if op.cancel)
        checks = {
            "all_selections_made": len(tally.made) + tally.cancelled == n_selections,
            "active_matches_clients_view": active == len(tally.made) == n_selections - expected_cancel,
            "cancelled_exact": cancelled == tally.cancelled == expected_cancel,
            "taken_equals_active_per_course": not mismatched,
            "no_course_over_capacity": not over,
            "replays": tally.replays + tally.in_progress_409 == sum(1 for op in ops if op.duplicate),
            "no_unexpected_errors": not tally.unexpected,
        }
        await mongo.close()
        logs = (
            {
                path.name: path.read_text(errors="replace")[-1500:]
                for path in sorted((system.config.var_dir / "log").glob("enrollment*.log"))
            }
            if tally.unexpected
            else {}
        )

    requests = len(tally.latencies)
    throughput = requests / elapsed
    p50, p95, p99 = (percentile(tally.latencies, q) * 1000 for q in (50, 95, 99))
    summary = {
        "teachers": n_teachers,
        "selections": n_selections,
        "clients": clients,
        "api_workers": int(api_workers or 1),
        "requests": requests,
        "seconds": round(elapsed, 2),
        "throughput_rps": round(throughput, 1),
        "latency_p50_ms": round(p50, 1),
        "latency_p95_ms": round(p95, 1),
        "latency_p99_ms": round(p99, 1),
        "latency_mean_ms": round(statistics.fmean(tally.latencies) * 1000, 1) if tally.latencies else 0,
        "raw_insert_rate_per_s": round(raw_rate, 1),
        "throughput_vs_raw_insert": round(throughput / raw_rate, 3),
        "target_p99_under_300ms": p99 < 300,
        "target_throughput_40pct_of_raw": throughput >= 0.4 * raw_rate,
        "exact_counts": all(checks.values()),
        "transport_retries": tally.transport_retries,
        "expected_409_idempotency_in_progress": tally.in_progress_409,
    }
    return {
        "summary": summary,
        "checks": checks,
        "statuses": dict(tally.statuses),
        "unexpected_sample": tally.unexpected[:20],
        "unexpected_count": len(tally.unexpected),
        "cpu_seconds_during_storm": cpu,
        "logs_tail": logs,
        "host": {"cpus": os.cpu_count(), "loadavg": os.getloadavg()},
        "result_path": str(Path("var/bench/selection.json")),
    }
