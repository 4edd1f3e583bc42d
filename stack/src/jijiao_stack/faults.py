"""The fault suite (issue 16): ``make faults`` / ``python -m jijiao_stack.faults``.

Brings up the whole system with the launcher of ``make up`` (``jijiao_stack.system``) on free ports with a
prefix of its own, its own embedded store and, where the machine has ``rabbitmq-server``, a RabbitMQ node
of its own (the broker scenario stops and starts it: a shared broker must not be stopped). Each scenario
runs a workload whose end state is known (teachers registered, each selected for a course and given a
passed result; the welcome and result notices), injects one fault with real signals and real restarts,
waits until every effect has arrived, and compares the end state with the expected one exactly:

- ``consumer_kill``: SIGKILL of the hours and notify workers mid-burst, restarted 2 s later;
- ``relay_kill``: SIGKILL of enrollment's worker (its outbox relay) mid-burst, restarted 2 s later;
- ``broker_restart``: ``rabbitmqctl stop_app`` under load, ``start_app`` 8 s later;
- ``poison``: a body that is not an envelope and an envelope with an invalid payload, under load;
  each consuming service must park both within 5 s;
- ``notify_sigterm``: SIGTERM to the notify worker mid-burst, several times; each exit within the
  shutdown deadline, nothing acked after consuming stopped;
- ``store_kill``: SIGKILL of the store for 8 s under load (requests answer 503, never 500).

Expected, per teacher whose registration answered 201: hours' directory has the teacher and the
result credited exactly once (24 professional hours), studio's and baseline's directories have the
teacher, notify has sent the welcome and the result notice, each delivered once. Lost = expected
effects missing; duplicated = effects beyond one. JSON per scenario under ``var/faults/``; a table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aio_pika
import httpx
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from jijiao_contracts import Envelope, Topology
from jijiao_contracts.events.enrollment import TeacherRegistered
from jijiao_stack.brokeradmin import delete_by_prefix_blocking
from jijiao_stack.processes import SERVICES, Started, free_port, spawn_store, worker_command
from jijiao_stack.system import DEFAULT_RABBITMQ_URL, DEFAULT_REDIS_URL, System, SystemConfig

ROOT = Path(__file__).resolve().parents[3]
DEMO_PASSWORD = "jijiao-demo"
CONSUMERS = ("hours", "notify", "studio", "baseline")  # services bound to TeacherRegistered
COURSE_HOURS = 24
SCENARIOS = ("consumer_kill", "relay_kill", "broker_restart", "poison", "notify_sigterm", "store_kill")
FAST_SCENARIOS = ("consumer_kill", "relay_kill", "poison", "notify_sigterm")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


# -- a RabbitMQ node of the suite's own -------------------------------------------------------------


class PrivateRabbit:
    """A RabbitMQ node on free ports (run as the ``rabbitmq`` user, like the system's own node), so the
    broker scenario can stop and start it without touching anyone else's broker."""

    def __init__(self) -> None:
        self.name = f"faults{uuid.uuid4().hex[:8]}@localhost"
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="jijiao-faults-rabbit-"))
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return os.geteuid() == 0 and Path("/usr/lib/rabbitmq/bin/rabbitmq-server").exists()

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def start(self, seconds: float = 90) -> None:
        (self.dir / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        (self.dir / "enabled_plugins").write_text("[].\n")
        (self.dir / "env.conf").write_text(
            "\n".join(
                [
                    f"NODENAME={self.name}",
                    f"NODE_PORT={self.port}",
                    f"DIST_PORT={free_port()}",
                    f"MNESIA_BASE={self.dir}/mnesia",
                    f"LOG_BASE={self.dir}/log",
                    f"ENABLED_PLUGINS_FILE={self.dir}/enabled_plugins",
                    f"CONFIG_FILE={self.dir}/rabbitmq.conf",
                    f"PID_FILE={self.dir}/pid",
                    "ERL_EPMD_ADDRESS=127.0.0.1",
                    'export ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}"',
                    "",
                ]
            )
        )
        shutil.chown(self.dir, "rabbitmq", "rabbitmq")
        for path in self.dir.iterdir():
            shutil.chown(path, "rabbitmq", "rabbitmq")
        env = {**os.environ, "RABBITMQ_CONF_ENV_FILE": str(self.dir / "env.conf")}
        log = (self.dir / "server.out").open("ab")
        self.process = subprocess.Popen(
            [
                "su",
                "rabbitmq",
                "-s",
                "/bin/sh",
                "-c",
                "cd /var/lib/rabbitmq && exec /usr/lib/rabbitmq/bin/rabbitmq-server",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + seconds
        while not self._answers():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"private RabbitMQ node did not start (see {self.dir}/server.out)")
            time.sleep(0.5)

    def _answers(self) -> bool:
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def ctl(self, *args: str) -> None:
        subprocess.run(["rabbitmqctl", "-n", self.name, *args], check=True, capture_output=True, timeout=120)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.ctl("stop")
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


# -- the system under test --------------------------------------------------------------------------


class Lab:
    """The whole system for the fault suite: the launcher of ``make up`` with a prefix, ports, store and
    (optionally) broker of its own, plus the means to kill and restart any one process."""

    def __init__(
        self, *, rabbitmq_url: str | None = None, redis_url: str | None = None, extra_env: dict[str, str] | None = None
    ) -> None:
        self.var_dir = Path(tempfile.mkdtemp(prefix="jijiao-faults-"))
        self.prefix = f"f{uuid.uuid4().hex[:8]}"
        self.rabbit: PrivateRabbit | None = None
        self.config = SystemConfig(
            root=ROOT,
            var_dir=self.var_dir,
            name_prefix=self.prefix,
            ports={name: free_port() for name in SERVICES},
            mongodb_url=None,  # a store of the suite's own: the store scenario kills it
            rabbitmq_url=rabbitmq_url or os.environ.get("RABBITMQ_URL", DEFAULT_RABBITMQ_URL),
            redis_url=redis_url or os.environ.get("REDIS_URL", DEFAULT_REDIS_URL),
            store_port=free_port(),
            smtp_port=free_port(),
            extra_env={
                "LOG_JSON": "false",
                "LOG_LEVEL": "INFO",
                "RELAY_INTERVAL_SECONDS": "0.05",
                # Quiet hours would defer notices when the suite runs at night (Shanghai time).
                "QUIET_HOURS_ENABLED": "false",
                **(extra_env or {}),
            },
        )
        self.system = System(self.config)
        self.token = ""

    @classmethod
    def with_private_broker(cls, extra_env: dict[str, str] | None = None) -> Lab:
        rabbit = PrivateRabbit()
        rabbit.start()
        lab = cls(rabbitmq_url=rabbit.url, extra_env=extra_env)
        lab.rabbit = rabbit
        return lab

    @property
    def topology(self) -> Topology:
        return Topology(prefix=self.prefix)

    @property
    def urls(self) -> dict[str, str]:
        return self.system.urls

    def start(self) -> None:
        try:
            self.system.start(seed=True, ready_seconds=150)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self.system.stop()
        with contextlib.suppress(Exception):
            asyncio.run(self._drop_data())
        if self.rabbit is not None:
            self.rabbit.stop()
        else:
            with contextlib.suppress(Exception):
                delete_by_prefix_blocking(self.config.rabbitmq_url, (f"{self.prefix}.",))
        shutil.rmtree(self.var_dir, ignore_errors=True)

    async def _drop_data(self) -> None:
        redis = Redis.from_url(self.config.redis_url)
        keys = [key async for key in redis.scan_iter(match=f"{self.prefix}:*", count=500)]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()

    # processes
    def process(self, name: str) -> Started:
        return next(item for item in reversed(self.system.group.started) if item.name == name)

    def signal(self, name: str, signum: int) -> Started:
        started = self.process(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(started.process.pid, signum)
        return started

    def kill(self, name: str) -> None:
        started = self.signal(name, signal.SIGKILL)
        started.process.wait(timeout=10)
        self.system.group.started.remove(started)

    def start_worker(self, service: str) -> None:
        self.system.group.spawn(f"{service}-worker", worker_command(service), self.system.service_env(service))

    def kill_store(self) -> None:
        self.kill("nx-27017")

    def start_store(self) -> None:
        spawn_store(self.system.group, self.config.store_port, self.var_dir)

    def log(self, name: str) -> str:
        return self.process(name).log.read_text(errors="replace")

    # clients
    def client(self, service: str) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.AsyncClient(base_url=self.urls[service], headers=headers, timeout=30.0)

    async def login(self) -> None:
        async with self.client("enrollment") as client:
            response = await client.post("/v1/auth/token", json={"login": "cityadmin", "password": DEMO_PASSWORD})
            response.raise_for_status()
            self.token = str(response.json()["access_token"])


# -- the workload -----------------------------------------------------------------------------------


@dataclass
class Answer:
    at: float
    what: str
    status: str  # an HTTP status, or the transport error's name


@dataclass
class Teacher:
    ce_number: str
    mobile: str


class Workload:
    """Registers ``n`` teachers in one school, selects each for one course, starts their learning and
    registers a passed result for each; every request is retried until it is answered (a 503 or a
    transport error during a fault is recorded, then tried again)."""

    _counter = 0

    def __init__(self, lab: Lab, tag: str, n: int, *, concurrency: int = 6) -> None:
        self.lab = lab
        self.tag = tag
        self.n = n
        self.concurrency = concurrency
        self.answers: list[Answer] = []
        self.teachers: list[Teacher] = []
        self.unknown = 0  # registrations whose outcome cannot be known (a retry found the id taken)
        self.year = datetime.now(UTC).year
        self.term = f"{self.year % 100:02d}07"
        self.course = ""
        self.school = ""
        self.registered = asyncio.Event()
        self.progress = 0

    async def _call(self, client: httpx.AsyncClient, what: str, method: str, path: str, **kw: Any) -> httpx.Response:
        deadline = time.monotonic() + 120
        while True:
            try:
                response = await client.request(method, path, **kw)
                self.answers.append(Answer(time.time(), what, str(response.status_code)))
                if response.status_code < 500:
                    return response
            except httpx.HTTPError as exc:
                self.answers.append(Answer(time.time(), what, type(exc).__name__))
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: no answer below 500 within 120 s")
            await asyncio.sleep(0.5)

    async def prepare(self) -> None:
        now = datetime.now(UTC)
        async with self.lab.client("enrollment") as client:
            school = await self._call(
                client,
                "school",
                "POST",
                "/v1/schools",
                json={
                    "name": f"故障演练小学{self.tag}",
                    "school_type": "小学",
                    "seal_name": f"广州市故障演练小学{self.tag}",
                    "town": "石牌街",
                    "nature": "公办",
                    "head_name": "赵校长",
                    "head_mobile": "13811114444",
                    "district": "天河区",
                },
            )
            school.raise_for_status()
            self.school = school.json()["id"]
            term = await self._call(
                client,
                "term",
                "POST",
                "/v1/terms",
                json={
                    "code": self.term,
                    "year": self.year,
                    "selection_opens_at": (now - timedelta(hours=1)).isoformat(),
                    "selection_closes_at": (now + timedelta(days=7)).isoformat(),
                    "study_starts_on": (now + timedelta(days=8)).date().isoformat(),
                    "study_ends_on": (now + timedelta(days=60)).date().isoformat(),
                    "payment_due_at": (now + timedelta(days=20)).isoformat(),
                },
            )
            if term.status_code not in (201, 409):
                raise RuntimeError(f"term: {term.status_code} {term.text}")
            self.course = f"{self.term}{random.randint(10**8, 10**9 - 1)}"
            course = await self._call(
                client,
                "course",
                "POST",
                f"/v1/terms/{self.term}/courses",
                json={
                    "code": self.course,
                    "name": f"故障演练课程{self.tag}",
                    "programme": "city",
                    "hour_type": "professional",
                    "hours": COURSE_HOURS,
                    "training_fee": 120,
                    "material_fee": 0,
                    "course_type": "remote",
                    "payee": "广州市广播电视大学",
                    "subject": "数学",
                    "stage": "primary",
                    "capacity": None,
                    "institution_id": "inst-faults",
                },
            )
            if course.status_code != 201:
                raise RuntimeError(f"course: {course.status_code} {course.text}")

    @classmethod
    def _identity(cls) -> tuple[str, str]:
        cls._counter += 1
        i = cls._counter + random.randint(0, 10**6) * 1000
        first = (
            f"440106{1970 + (i // 336_000) % 30}{(i // 28_000) % 12 + 1:02d}{(i // 1000) % 28 + 1:02d}{i % 1000:03d}"
        )
        id_number = first + _CHECK[sum(int(d) * w for d, w in zip(first, _WEIGHTS, strict=True)) % 11]
        return id_number, f"13{random.randint(0, 9)}{random.randint(10**7, 10**8 - 1)}"

    async def _one(self, client: httpx.AsyncClient, index: int) -> None:
        id_number, mobile = self._identity()
        body = {"name": "演练老师", "id_number": id_number, "mobile": mobile, "subject": "数学", "stage": "primary"}
        created = await self._call(client, "register", "POST", f"/v1/schools/{self.school}/teachers", json=body)
        if created.status_code == 409:  # an earlier try was written before its answer was lost
            self.unknown += 1
            return
        if created.status_code != 201:
            raise RuntimeError(f"register: {created.status_code} {created.text}")
        ce = created.json()["ce_number"]
        self.teachers.append(Teacher(ce, mobile))
        selected = await self._call(
            client,
            "select",
            "POST",
            f"/v1/terms/{self.term}/selections",
            json={"ce_number": ce, "course_code": self.course},
        )
        if selected.status_code not in (201, 409):
            raise RuntimeError(f"select: {selected.status_code} {selected.text}")
        learning = await self._call(
            client,
            "learning",
            "POST",
            f"/v1/terms/{self.term}/learning-started",
            json={"records": [{"ce_number": ce, "course_code": self.course}]},
        )
        if learning.status_code != 200:
            raise RuntimeError(f"learning: {learning.status_code} {learning.text}")
        result = await self._call(
            client,
            "result",
            "POST",
            f"/v1/terms/{self.term}/results",
            json={"ce_number": ce, "course_code": self.course, "passed": True},
        )
        if result.status_code not in (200, 201):
            raise RuntimeError(f"result: {result.status_code} {result.text}")
        self.progress += 1

    async def run(self) -> None:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(self.n):
            queue.put_nowait(index)

        async def lane() -> None:
            async with self.lab.client("enrollment") as client:
                while not queue.empty():
                    await self._one(client, queue.get_nowait())

        await asyncio.gather(*(lane() for _ in range(self.concurrency)))

    async def until_progress(self, fraction: float, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.progress < self.n * fraction and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


# -- the end state ----------------------------------------------------------------------------------


@dataclass
class Observed:
    """Effects counted per teacher: 1 each is the expected state."""

    missing: dict[str, int] = field(default_factory=dict)
    extra: dict[str, int] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)

    @property
    def exact(self) -> bool:
        return not any(self.missing.values()) and not any(self.extra.values()) and not any(self.pending.values())


class EndState:
    """Reads the stores of the lab directly and through the APIs."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        assert lab.system.mongodb_url is not None
        self.mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            lab.system.mongodb_url, serverSelectionTimeoutMS=3000
        )
        self.redis = Redis.from_url(lab.config.redis_url, decode_responses=True)

    def db(self, service: str) -> Any:
        return self.mongo[f"{self.lab.prefix}_{service}"]

    async def close(self) -> None:
        await self.mongo.close()
        await self.redis.aclose()

    async def observe(self, workload: Workload) -> Observed:
        teachers = workload.teachers
        ces = [teacher.ce_number for teacher in teachers]
        seen = Observed()
        for service in ("hours", "studio", "baseline"):
            collection = "teachers" if service == "hours" else "teacher_directory"
            found = Counter(
                [doc["_id"] async for doc in self.db(service)[collection].find({"_id": {"$in": ces}}, {"_id": 1})]
            )
            seen.missing[f"{service}.directory"] = sum(1 for ce in ces if found[ce] == 0)
        # hours: each passed result credited exactly once
        credited: Counter[str] = Counter()
        async with self.lab.client("hours") as client:
            for ce in ces:
                response = await client.get(f"/v1/teachers/{ce}/years/{workload.year}/hours")
                if response.status_code == 200:
                    credited[ce] = int(response.json()["professional"]) // COURSE_HOURS
        seen.missing["hours.credits"] = sum(1 for ce in ces if credited[ce] == 0)
        seen.extra["hours.credits"] = sum(max(0, credited[ce] - 1) for ce in ces)
        # notify: the welcome and the result notice, each sent, each delivered once
        messages = self.db("notify")["messages"]
        subjects = [f"teacher:{ce}" for ce in ces]
        by_subject: dict[str, Counter[str]] = {subject: Counter() for subject in subjects}
        unsent = 0
        async for doc in messages.find({"subject": {"$in": subjects}}, {"subject": 1, "template": 1, "status": 1}):
            by_subject[doc["subject"]][str(doc.get("template"))] += 1
            unsent += doc.get("status") not in ("sent", "failed", "suppressed")
        for kind in ("welcome", "result"):
            have = [sum(n for template, n in counts.items() if kind in template) for counts in by_subject.values()]
            seen.missing[f"notify.{kind}"] = sum(1 for n in have if n == 0)
            seen.extra[f"notify.{kind}"] = sum(max(0, n - 1) for n in have)
        seen.pending["notify.unsent"] = unsent
        deliveries = await self._sms_deliveries([teacher.mobile for teacher in teachers])
        seen.extra["notify.sms_delivered_twice"] = sum(max(0, n - 1) for n in deliveries)
        seen.pending["outbox"] = await self._outbox_pending()
        seen.pending["inbox.claims"] = await self._claims()
        return seen

    async def _sms_deliveries(self, mobiles: list[str]) -> list[int]:
        """How many times each SMS to these mobiles reached the development sink."""
        from notify.adapters.sms_sink import SmsSinkStore

        sink = SmsSinkStore(self.redis, f"{self.lab.prefix}:notify:")
        counts: list[int] = []
        for mobile in mobiles:
            counts.extend(int(doc["deliveries"]) for doc in await sink.list_to(mobile))
        return counts

    async def _outbox_pending(self) -> int:
        total = 0
        for service in SERVICES:
            db = self.db(service)
            for name in await db.list_collection_names():
                total += await db[name].count_documents({"outbox_pending": {"$gt": 0}})
        return total

    async def _claims(self) -> int:
        total = 0
        for service in SERVICES:
            total += await self.db(service)["inbox"].count_documents({"state": "processing"})
        return total


async def queue_depths(lab: Lab, queues: list[str]) -> dict[str, int]:
    connection = await aio_pika.connect(lab.config.rabbitmq_url, timeout=10)
    depths: dict[str, int] = {}
    async with connection:
        for queue in queues:
            channel = await connection.channel()
            try:
                declared = await channel.declare_queue(queue, passive=True)
                depths[queue] = int(declared.declaration_result.message_count or 0)
            except Exception:
                depths[queue] = -1
            with contextlib.suppress(Exception):
                await channel.close()
    return depths


# -- scenarios --------------------------------------------------------------------------------------


@dataclass
class ScenarioResult:
    scenario: str
    teachers: int
    requests_during_fault: int = 0
    answers_during_fault: dict[str, int] = field(default_factory=dict)
    answers_500: int = 0
    lost: int = 0
    duplicated: int = 0
    unknown_registrations: int = 0
    recovery_seconds: float | None = None
    healed_by_itself: bool = False
    details: dict[str, Any] = field(default_factory=dict)
    end_state: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        ok = self.lost == 0 and self.duplicated == 0 and self.healed_by_itself and self.answers_500 == 0
        ok = ok and self.recovery_seconds is not None and self.recovery_seconds <= 30
        if self.scenario == "poison":
            ok = ok and all(
                seconds is not None and seconds <= 5 for seconds in self.details["parked_in_seconds"].values()
            )
        if self.scenario == "notify_sigterm":
            ok = ok and all(stop["exited_in_seconds"] is not None for stop in self.details["stops"])
            ok = ok and all(stop["consumed_after_stop"] == 0 for stop in self.details["stops"])
        return ok


Fault = Callable[[Lab, Workload, dict[str, Any]], Awaitable[None]]


async def _consumer_kill(lab: Lab, workload: Workload, details: dict[str, Any]) -> None:
    for service in ("hours", "notify"):
        lab.kill(f"{service}-worker")
    await asyncio.sleep(2)
    for service in ("hours", "notify"):
        lab.start_worker(service)


async def _relay_kill(lab: Lab, workload: Workload, details: dict[str, Any]) -> None:
    lab.kill("enrollment-worker")
    await asyncio.sleep(2)
    lab.start_worker("enrollment")


async def _broker_restart(lab: Lab, workload: Workload, details: dict[str, Any]) -> None:
    if lab.rabbit is None:
        raise RuntimeError("the broker scenario needs the suite's own RabbitMQ node (run as root with rabbitmq-server)")
    await asyncio.to_thread(lab.rabbit.ctl, "stop_app")
    await asyncio.sleep(8)
    await asyncio.to_thread(lab.rabbit.ctl, "start_app")


async def _store_kill(lab: Lab, workload: Workload, details: dict[str, Any]) -> None:
    lab.kill_store()
    await asyncio.sleep(8)
    await asyncio.to_thread(lab.start_store)


async def _poison(lab: Lab, workload: Workload, details: dict[str, Any]) -> None:
    topology = lab.topology
    parking = [topology.parking_queue(service) for service in CONSUMERS]
    before = await queue_depths(lab, parking)
    valid = Envelope.wrap(
        TeacherRegistered(
            ce_number="2099000001", name="毒", school_id="s", school_name="s", district="天河区", registered_year=2026
        ),
        producer="enrollment",
    )
    invalid = valid.model_dump_json().replace('"ce_number":"2099000001"', '"ce_number":null').encode()
    connection = await aio_pika.connect(lab.config.rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(topology.events_exchange)
        started = time.monotonic()
        for body, message_id in ((b"not an envelope", "garbage"), (invalid, valid.event_id)):
            await exchange.publish(
                aio_pika.Message(body, message_id=message_id, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=TeacherRegistered.routing_key(),
            )
    parked_in: dict[str, float | None] = dict.fromkeys(parking)
    while time.monotonic() - started < 30 and any(value is None for value in parked_in.values()):
        depths = await queue_depths(lab, parking)
        for queue in parking:
            if parked_in[queue] is None and depths[queue] - before[queue] >= 2:
                parked_in[queue] = round(time.monotonic() - started, 2)
        await asyncio.sleep(0.1)
    details["parked_in_seconds"] = parked_in


async def _notify_sigterm(lab: Lab, workload: Workload, details: dict[str, Any], times: int = 3) -> None:
    deadline = float(lab.config.extra_env.get("SHUTDOWN_DEADLINE_SECONDS", "20"))
    stops = details.setdefault("stops", [])
    for attempt in range(times):
        started = lab.signal("notify-worker", signal.SIGTERM)
        sent = time.monotonic()
        exited: float | None
        try:
            await asyncio.to_thread(started.process.wait, deadline)
            exited = round(time.monotonic() - sent, 2)
        except subprocess.TimeoutExpired:
            exited = None
            lab.kill("notify-worker")
        log = started.log.read_text(errors="replace")
        stops.append({"exited_in_seconds": exited, "consumed_after_stop": _consumed_after_stop(log)})
        if started in lab.system.group.started:
            lab.system.group.started.remove(started)
        # each run appends to the same log file: mark where the next one starts
        with started.log.open("a") as handle:
            handle.write(f"\n=== faults: notify-worker restart {attempt + 1} ===\n")
        lab.start_worker("notify")
        if attempt < times - 1:  # the next stop hits a worker that is consuming again
            await _until_logged(
                lab, "notify-worker", "worker notify started", after="=== faults: notify-worker restart"
            )
            await asyncio.sleep(1)
    details["deadline_seconds"] = deadline


async def _until_logged(lab: Lab, name: str, text: str, *, after: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in lab.log(name).rsplit(after, 1)[-1]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not log {text!r} within {timeout} s")
        await asyncio.sleep(0.2)


def _consumed_after_stop(log: str) -> int:
    """Events acked by the last run in ``log`` after it reported that consuming stopped."""
    last_run = log.rsplit("=== faults: notify-worker restart", 1)[-1]
    _, found, after = last_run.partition("consuming stopped")
    if not found:
        return -1  # never reported stopping: counted as a failure by the caller's check below
    return sum(1 for line in after.splitlines() if "consumed " in line)


FAULTS: dict[str, Fault] = {
    "consumer_kill": _consumer_kill,
    "relay_kill": _relay_kill,
    "broker_restart": _broker_restart,
    "poison": _poison,
    "notify_sigterm": _notify_sigterm,
    "store_kill": _store_kill,
}


async def run_scenario(lab: Lab, scenario: str, teachers: int, *, settle_seconds: float = 90) -> ScenarioResult:
    result = ScenarioResult(scenario, teachers)
    await lab.login()
    workload = Workload(lab, uuid.uuid4().hex[:6], teachers)
    await workload.prepare()
    load = asyncio.create_task(workload.run())
    await workload.until_progress(0.3)
    fault_started = time.time()
    try:
        await FAULTS[scenario](lab, workload, result.details)
    finally:
        fault_ended = time.time()
    await load
    load_ended = time.time()
    answered_again = [
        a.at for a in workload.answers if a.at >= fault_ended and a.status.isdigit() and int(a.status) < 500
    ]
    result.details["api_recovered_seconds"] = round(min(answered_again) - fault_ended, 1) if answered_again else None
    result.details["load_seconds_after_fault"] = round(load_ended - fault_ended, 1)
    during = [answer for answer in workload.answers if fault_started <= answer.at <= fault_ended + 5]
    result.requests_during_fault = len(during)
    result.answers_during_fault = dict(Counter(answer.status for answer in during))
    result.answers_500 = sum(1 for answer in workload.answers if answer.status == "500")
    result.unknown_registrations = workload.unknown
    state = EndState(lab)
    try:
        observed = await state.observe(workload)
        deadline = time.monotonic() + settle_seconds
        while not observed.exact and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            with contextlib.suppress(Exception):
                observed = await state.observe(workload)
        if observed.exact:
            # Recovered once the APIs answer again and the effects of every write have arrived: from the
            # fault's end, or from the workload's end if it went on longer (its own pace is not recovery).
            settled = round(max(0.0, time.time() - max(fault_ended, load_ended)), 1)
            result.details["settled_after_load_seconds"] = settled
            result.recovery_seconds = max(settled, result.details["api_recovered_seconds"] or 0.0)
        result.healed_by_itself = observed.exact
        result.lost = sum(observed.missing.values())
        result.duplicated = sum(observed.extra.values())
        result.end_state = asdict(observed)
        queues = [lab.topology.service_queue(service) for service in CONSUMERS]
        result.details["queue_depths_after"] = await queue_depths(lab, queues)
    finally:
        await state.close()
    return result


def write_result(result: ScenarioResult, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{result.scenario}.json"
    path.write_text(json.dumps({**asdict(result), "passed": result.passed}, ensure_ascii=False, indent=2) + "\n")
    return path


def table(results: list[ScenarioResult]) -> str:
    header = f"{'scenario':16} {'teachers':>8} {'req@fault':>9} {'5xx/err@fault':>13} {'500s':>5} {'lost':>5} {'dup':>4} {'recovery s':>10} {'healed':>6} {'pass':>5}"
    rows = [header, "-" * len(header)]
    for r in results:
        errors = sum(n for status, n in r.answers_during_fault.items() if not status.isdigit() or int(status) >= 500)
        recovery = "-" if r.recovery_seconds is None else f"{r.recovery_seconds:.1f}"
        rows.append(
            f"{r.scenario:16} {r.teachers:>8} {r.requests_during_fault:>9} {errors:>13} {r.answers_500:>5} {r.lost:>5} "
            f"{r.duplicated:>4} {recovery:>10} {r.healed_by_itself!s:>6} {r.passed!s:>5}"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jijiao_stack.faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("--teachers", type=int, default=int(os.environ.get("FAULTS_TEACHERS", "120")))
    parser.add_argument("--only", default=os.environ.get("FAULTS_ONLY", ""), help="comma-separated scenarios")
    parser.add_argument("--out", default=str(ROOT / "var" / "faults"))
    args = parser.parse_args(argv)
    scenarios = [name for name in (args.only.split(",") if args.only else SCENARIOS) if name]
    own_broker = "broker_restart" in scenarios and PrivateRabbit.available()
    if "broker_restart" in scenarios and not own_broker:
        print("[faults] broker_restart skipped: no RabbitMQ node of the suite's own (run as root with rabbitmq-server)")
        scenarios.remove("broker_restart")
    lab = Lab.with_private_broker() if own_broker else Lab()
    results: list[ScenarioResult] = []
    try:
        lab.start()
        for scenario in scenarios:
            print(f"[faults] {scenario} ({args.teachers} teachers) ...", flush=True)
            result = asyncio.run(run_scenario(lab, scenario, args.teachers))
            results.append(result)
            print(f"[faults]   -> {write_result(result, Path(args.out))}", flush=True)
    finally:
        lab.stop()
    print(table(results))
    return 0 if results and all(result.passed for result in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
