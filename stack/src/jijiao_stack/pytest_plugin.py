"""Test fixtures for every service's integration tests and the end-to-end tests.

Infrastructure order (DESIGN.md "Tests"): URLs from the environment (``MONGODB_URL``, ``RABBITMQ_URL``,
``REDIS_URL``) → testcontainers when a Docker engine answers → the local RabbitMQ and Redis plus a
test-started nx-27017. Every test gets its own name prefix, so databases, exchanges, queues and Redis
keys never collide and the suite passes twice in a row; what a test declared is deleted after it.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aio_pika
import httpx
import pytest
from fastapi import FastAPI
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from jijiao_contracts import Topology
from jijiao_contracts.routing import SERVICES
from jijiao_kit.auth import TokenIssuer, load_or_create_keypair
from jijiao_stack.brokeradmin import delete_by_prefix_blocking
from jijiao_stack.infra import Endpoint, docker_engine_answers, ensure_running
from jijiao_stack.processes import ProcessGroup, free_port, spawn_store

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class InfraUrls:
    mongodb_url: str
    rabbitmq_url: str
    redis_url: str


def _containers() -> tuple[InfraUrls, Callable[[], None]]:
    from testcontainers.mongodb import MongoDbContainer
    from testcontainers.rabbitmq import RabbitMqContainer
    from testcontainers.redis import RedisContainer

    mongo, rabbit, redis = MongoDbContainer("mongo:7"), RabbitMqContainer("rabbitmq:3.13-management"), RedisContainer()
    for container in (mongo, rabbit, redis):
        container.start()
    urls = InfraUrls(
        mongodb_url=mongo.get_connection_url(),
        rabbitmq_url=(f"amqp://guest:guest@{rabbit.get_container_host_ip()}:{rabbit.get_exposed_port(5672)}/"),
        redis_url=f"redis://{redis.get_container_host_ip()}:{redis.get_exposed_port(6379)}/0",
    )

    def stop() -> None:
        for container in (mongo, rabbit, redis):
            container.stop()

    return urls, stop


@pytest.fixture(scope="session")
def infra_urls() -> Iterator[InfraUrls]:
    env = {name: os.environ.get(name) for name in ("MONGODB_URL", "RABBITMQ_URL", "REDIS_URL")}
    if all(env.values()):
        yield InfraUrls(env["MONGODB_URL"], env["RABBITMQ_URL"], env["REDIS_URL"])  # type: ignore[arg-type]
        return
    if not any(env.values()) and os.environ.get("JIJIAO_TESTCONTAINERS", "auto") != "off" and docker_engine_answers():
        urls, stop = _containers()
        yield urls
        stop()
        return
    rabbitmq_url = env["RABBITMQ_URL"] or "amqp://guest:guest@127.0.0.1:5672/"
    redis_url = env["REDIS_URL"] or "redis://127.0.0.1:6379/0"
    ensure_running(
        [Endpoint.from_url("rabbitmq", rabbitmq_url, 5672), Endpoint.from_url("redis", redis_url, 6379)],
        str(ROOT / "docker-compose.yml"),
    )
    if env["MONGODB_URL"]:
        yield InfraUrls(env["MONGODB_URL"], rabbitmq_url, redis_url)
        return
    workdir = Path(tempfile.mkdtemp(prefix="jijiao-nx-"))
    group = ProcessGroup(workdir / "log")
    mongodb_url = spawn_store(group, free_port(), workdir)
    yield InfraUrls(mongodb_url, rabbitmq_url, redis_url)
    group.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def keys_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="jijiao-keys-"))
    load_or_create_keypair(path, "auth")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def session_prefix(infra_urls: InfraUrls) -> Iterator[str]:
    """Every name this session declares starts with it; what a test left behind goes at the end."""
    prefix = f"t{uuid.uuid4().hex[:6]}"
    yield prefix
    delete_by_prefix_blocking(infra_urls.rabbitmq_url, (f"{prefix}",))


@pytest.fixture
async def name_prefix(infra_urls: InfraUrls, session_prefix: str) -> AsyncIterator[str]:
    """A fresh prefix for this test's databases, exchanges, queues and Redis keys; cleaned after."""
    prefix = f"{session_prefix}{uuid.uuid4().hex[:4]}"
    yield prefix
    await cleanup_prefix(infra_urls, prefix)


async def cleanup_prefix(urls: InfraUrls, prefix: str) -> None:
    topology = Topology(prefix=prefix)
    with suppress(Exception):
        connection = await aio_pika.connect(urls.rabbitmq_url, timeout=5)
        async with connection:
            channel = await connection.channel()
            queues = [topology.unrouted_queue, topology.legacy_unrouted_queue]
            for service in SERVICES:
                queues += [topology.service_queue(service), topology.parking_queue(service)]
            for queue in queues:
                with suppress(Exception):
                    await channel.queue_delete(queue)
                    channel = await connection.channel() if channel.is_closed else channel
            for exchange in (topology.events_exchange, topology.unrouted_exchange, topology.dead_letter_exchange):
                with suppress(Exception):
                    channel = await connection.channel() if channel.is_closed else channel
                    await channel.exchange_delete(exchange)
    with suppress(Exception):
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(urls.mongodb_url, serverSelectionTimeoutMS=3000)
        for name in await client.list_database_names():
            if name.startswith(f"{prefix}_"):
                await client.drop_database(name)
        await client.close()
    with suppress(Exception):
        redis = Redis.from_url(urls.redis_url)
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*", count=500)]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


def settings_for(infra_urls: InfraUrls, name_prefix: str, keys_dir: Path) -> dict[str, Any]:
    """Keyword arguments for any service's ``Settings(...)`` on this infrastructure under ``name_prefix``."""
    return {
        "mongodb_url": infra_urls.mongodb_url,
        "rabbitmq_url": infra_urls.rabbitmq_url,
        "redis_url": infra_urls.redis_url,
        "name_prefix": name_prefix,
        "keys_dir": keys_dir,
        "relay_interval_seconds": 0.05,
        "log_json": False,
    }


@pytest.fixture
def settings_env(infra_urls: InfraUrls, name_prefix: str, keys_dir: Path) -> dict[str, Any]:
    """Keyword arguments for any service's ``Settings(...)`` pointing at this test's infrastructure."""
    return settings_for(infra_urls, name_prefix, keys_dir)


@pytest.fixture(scope="module")
async def module_settings_env(
    infra_urls: InfraUrls, session_prefix: str, keys_dir: Path
) -> AsyncIterator[dict[str, Any]]:
    """``settings_env`` shared by the tests of one module (one prefix, cleaned after the module), for
    tests that run one app through many generated cases (the API fuzz tests)."""
    prefix = f"{session_prefix}{uuid.uuid4().hex[:4]}"
    yield settings_for(infra_urls, prefix, keys_dir)
    await cleanup_prefix(infra_urls, prefix)


@pytest.fixture(scope="session")
def token_issuer(keys_dir: Path) -> TokenIssuer:
    keys = load_or_create_keypair(keys_dir, "auth")
    return TokenIssuer(keys.private_pem, issuer="jijiao-enrollment", audience="jijiao", ttl_seconds=3600)


@pytest.fixture(scope="session")
def make_token(token_issuer: TokenIssuer) -> Callable[..., str]:
    """``make_token("city_admin")`` or ``make_token("teacher", ce_number=..., school_id=...)``."""

    def make(*roles: str, subject: str | None = None, name: str = "测试用户", **scopes: Any) -> str:
        return token_issuer.issue(
            subject or f"test:{uuid.uuid4().hex[:8]}", {"roles": list(roles), "name": name, "scopes": scopes}
        )

    return make


#: GB 11643-1999: weights of the first 17 digits and the check character by the weighted sum mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_number(serial: int | None = None, *, born: str | None = None) -> str:
    """A valid national ID number of 天河区 (440106): by ``serial`` (0-999) and ``born`` (YYYYMMDD) when
    given, random otherwise (tests against a long-lived system must not meet a number used before)."""
    born = born or f"19{random.randint(70, 99)}{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
    serial = serial if serial is not None else random.randint(0, 999)
    first = f"440106{born}{serial % 1000:03d}"
    return first + _ID_CHECK[sum(int(d) * w for d, w in zip(first, _ID_WEIGHTS, strict=True)) % 11]


def id_number_with_x() -> str:
    """A valid ID number whose check character is X."""
    for serial in range(1000):
        number = id_number(serial, born="19900307")
        if number.endswith("X"):
            return number
    raise AssertionError("no X check character")


def mobile(prefix: str = "139") -> str:
    """A random mobile number (tests against a long-lived system must not meet one used before)."""
    return f"{prefix}{random.randint(10_000_000, 99_999_999)}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def api_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app in-process, with its lifespan run."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@asynccontextmanager
async def running(worker: Any) -> AsyncIterator[Any]:
    """Start a ``jijiao_kit.worker.Worker`` in-process for the block."""
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


async def eventually(check: Callable[[], Awaitable[T | None]], *, timeout: float = 10.0, interval: float = 0.05) -> T:
    """Poll ``check`` until it returns a truthy value (returned, so never None) or raise after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: T | None = None
    while True:
        last = await check()
        if last:
            return last
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")
        await asyncio.sleep(interval)


@dataclass(frozen=True)
class RegisteredTeacher:
    """A teacher ``RunningSystem.register_teacher`` added: ``password`` is the one they sign in with (the
    initial one, the last six ID characters, until they chose their own), ``token`` theirs when they did
    (empty otherwise)."""

    ce_number: str
    id_number: str
    mobile: str
    password: str
    token: str = ""


@dataclass
class RunningSystem:
    """The five services as real processes (``make up``'s launcher) for end-to-end tests."""

    urls: dict[str, str]
    name_prefix: str
    mongodb_url: str
    var_dir: Path
    smtp_port: int
    redis_url: str = "redis://127.0.0.1:6379/0"

    @property
    def mail_dir(self) -> Path:
        """Where the system's mail catcher keeps every email it received (.eml files)."""
        return self.var_dir / "mail"

    def client(self, service: str, token: str | None = None) -> httpx.AsyncClient:
        headers = bearer(token) if token else {}
        return httpx.AsyncClient(base_url=self.urls[service], headers=headers, timeout=30.0)

    async def login(self, login: str, password: str) -> str:
        async with self.client("enrollment") as client:
            response = await client.post("/v1/auth/token", json={"login": login, "password": password})
            response.raise_for_status()
            return str(response.json()["access_token"])

    async def register_teacher(
        self,
        admin: str,
        school_id: str,
        name: str,
        *,
        subject: str = "语文",
        stage: str | None = "primary",
        number: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        password: str | None = None,
    ) -> RegisteredTeacher:
        """A new teacher of ``school_id``, added by ``admin`` through enrollment's API (a random valid ID
        number and mobile unless given). With ``password`` the teacher then signs in with the initial
        password, replaces it with ``password`` and signs in again (``token``)."""
        number, phone = number or id_number(), phone or mobile()
        body = {"name": name, "id_number": number, "mobile": phone, "subject": subject}
        body |= {"stage": stage} if stage else {}
        body |= {"email": email} if email else {}
        async with self.client("enrollment", admin) as client:
            created = await client.post(f"/v1/schools/{school_id}/teachers", json=body)
        assert created.status_code == 201, created.text
        teacher = RegisteredTeacher(created.json()["ce_number"], number, phone, number[-6:])
        if password is None:
            return teacher
        first = await self.login(teacher.ce_number, teacher.password)
        async with self.client("enrollment", first) as client:
            changed = await client.post(
                "/v1/auth/password", json={"old_password": teacher.password, "new_password": password}
            )
        assert changed.status_code == 204, changed.text
        token = await self.login(teacher.ce_number, password)
        return RegisteredTeacher(teacher.ce_number, number, phone, password, token)


@pytest.fixture(scope="session")
def running_system(infra_urls: InfraUrls) -> Iterator[RunningSystem]:
    """Start the whole system once per session with its own prefix, ports and keys; demo data seeded.

    Extra environment for the services can be given as ``JIJIAO_E2E_ENV`` (``A=1,B=2``)."""
    from jijiao_stack.processes import SERVICES
    from jijiao_stack.system import System, SystemConfig

    prefix = f"e{uuid.uuid4().hex[:10]}"
    var_dir = Path(tempfile.mkdtemp(prefix="jijiao-e2e-"))
    extra = dict(pair.split("=", 1) for pair in os.environ.get("JIJIAO_E2E_ENV", "").split(",") if "=" in pair)
    config = SystemConfig(
        root=ROOT,
        var_dir=var_dir,
        name_prefix=prefix,
        ports={name: free_port() for name in SERVICES},
        smtp_port=free_port(),
        mongodb_url=infra_urls.mongodb_url,
        rabbitmq_url=infra_urls.rabbitmq_url,
        redis_url=infra_urls.redis_url,
        # Quiet hours would defer notices when the suite runs at night (Shanghai time); e2e tests
        # assert deliveries, and quiet hours have their own tests with a controllable clock.
        extra_env={"RELAY_INTERVAL_SECONDS": "0.05", "LOG_JSON": "true", "QUIET_HOURS_ENABLED": "false", **extra},
    )
    system = System(config)
    try:
        system.start(seed=True, ready_seconds=120)
    except BaseException:
        system.stop()
        for log in sorted((var_dir / "log").glob("*.log")):
            print(f"===== {log.name}\n{log.read_text()[-3000:]}")
        raise
    yield RunningSystem(
        system.urls, prefix, infra_urls.mongodb_url, var_dir, system.config.smtp_port, infra_urls.redis_url
    )
    system.stop()
    asyncio.run(cleanup_prefix(infra_urls, prefix))
    delete_by_prefix_blocking(infra_urls.rabbitmq_url, (f"{prefix}.",))
    shutil.rmtree(var_dir, ignore_errors=True)
