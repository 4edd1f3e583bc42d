"""Fixtures of the hours integration tests: a container on this test's infrastructure and a roster."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest

from hours.adapters import mongo
from hours.bootstrap import Container, build
from hours.entrypoints.api.app import create_app
from hours.settings import Settings
from jijiao_kit.clock import MovableClock
from jijiao_kit.worker import Worker
from jijiao_stack.pytest_plugin import api_client, eventually, running

ROSTER = {
    "2026000001": ("陈晓明", "s1", "一小", "天河区"),
    "2026000002": ("李静", "s1", "一小", "天河区"),
    "2026000003": ("王海燕", "s2", "华景中学", "天河区"),
    "2026000004": ("赵强", "s3", "越秀一中", "越秀区"),
}


@pytest.fixture
async def container(settings_env: dict[str, Any], tmp_path: Path) -> AsyncIterator[Container]:
    settings = Settings(**settings_env, step_up_required=False, attachments_dir=tmp_path / "files")
    container = build(settings, clock=MovableClock())
    await mongo.ensure_indexes(container.infra.db)
    for ce, (name, school, school_name, district) in ROSTER.items():
        await container.teachers.upsert(
            ce,
            {"name": name, "school_id": school, "school_name": school_name, "district": district},
            datetime(2026, 1, 1, tzinfo=UTC),
        )
    yield container
    await container.infra.close()


@pytest.fixture
async def client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(create_app(container)) as http:
        yield http


@pytest.fixture
def clock(container: Container) -> MovableClock:
    """The time of the whole service: the container is built with it (system time until set)."""
    assert isinstance(container.clock, MovableClock)
    return container.clock


async def queue_depth(settings: Settings) -> int:
    """Messages ready in the service's queue (a passive declare; unacked deliveries are not counted)."""
    connection = await aio_pika.connect(settings.rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(settings.topology.service_queue(settings.service_name), passive=True)
        return int(queue.declaration_result.message_count or 0)


async def queue_empty(settings: Settings) -> bool:
    return await queue_depth(settings) == 0


async def drain(settings: Settings, make_worker: Callable[[], Worker], *, attempts: int = 10) -> None:
    """Return once every message published to the service's queue was consumed AND acked (acks follow the
    stored effects). Call it after the worker stopped: a delivery still unacked when its consumer stopped
    goes back to the queue, so an empty queue after a stop means nothing is left in flight. If one came
    back, a fresh worker consumes until the queue is empty and stops, and the queue is checked again."""
    for _ in range(attempts):
        if await queue_empty(settings):
            return
        async with running(make_worker()):
            await eventually(lambda: queue_empty(settings), timeout=20)
    raise AssertionError("the service queue did not stay empty after its consumer stopped")


Drain = Callable[[Settings, Callable[[], Worker]], Awaitable[None]]


@pytest.fixture
def drained() -> Drain:
    """``await drained(settings, make_worker)`` after a worker stopped: every published message was handled
    (instead of sleeping before asserting that duplicates changed nothing)."""
    return drain
