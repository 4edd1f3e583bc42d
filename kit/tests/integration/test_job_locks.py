"""Scheduled jobs' locks name their holder (kit.jobs, real Redis): a job locked by a worker whose
heartbeat is gone (SIGKILLed) runs at once in its successor, not after the lock's own expiry; a live
holder keeps it; of several takers one runs the tick."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from jijiao_kit.jobs import PeriodicJob, run_periodic
from jijiao_kit.liveness import Liveness
from jijiao_kit.runtime import Infrastructure
from jijiao_kit.settings import ServiceSettings

INTERVAL = 60.0  # the lock would last 54 s


@pytest.fixture
async def infra(settings_env: dict[str, Any]) -> AsyncIterator[Infrastructure]:
    infra = Infrastructure.from_settings(ServiceSettings(service_name="jobs", **settings_env))
    yield infra
    await infra.close()


def liveness(infra: Infrastructure) -> Liveness:
    holder = f"jobs:test:{uuid.uuid4().hex[:8]}"
    return Liveness(infra.redis, infra.settings.redis_prefix, holder, ttl_seconds=0.9, beat_seconds=0.3)


async def ticks(infra: Infrastructure, name: str, workers: list[Liveness]) -> int:
    """Start one job loop per worker, let them try their first tick, stop them; the ticks run."""
    ran: list[str] = []

    async def run() -> None:
        ran.append(name)

    stop = asyncio.Event()
    job = PeriodicJob(name, INTERVAL, run)
    prefix = infra.settings.redis_prefix
    loops = [asyncio.create_task(run_periodic(job, infra.redis, prefix, stop, live)) for live in workers]
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.gather(*loops)
    return len(ran)


async def test_a_dead_workers_job_lock_is_taken_over_at_once(infra: Infrastructure) -> None:
    name = f"job-{uuid.uuid4().hex[:6]}"
    killed, successor = liveness(infra), liveness(infra)
    await killed.beat()
    assert await ticks(infra, name, [killed]) == 1  # it holds the lock for most of the interval
    await successor.beat()
    assert await ticks(infra, name, [successor]) == 0  # the holder lives: its lock stands
    await infra.redis.delete(killed.key(killed.holder))  # SIGKILLed: its heartbeat is gone
    assert await ticks(infra, name, [successor]) == 1  # at once, not 54 s later
    held = await infra.redis.get(f"{infra.settings.redis_prefix}job:{name}")
    assert held in (successor.holder, successor.holder.encode())


async def test_of_several_takers_of_a_dead_workers_lock_one_runs_the_tick(infra: Infrastructure) -> None:
    name = f"job-{uuid.uuid4().hex[:6]}"
    killed = liveness(infra)
    await killed.beat()
    assert await ticks(infra, name, [killed]) == 1
    await infra.redis.delete(killed.key(killed.holder))
    takers = [liveness(infra) for _ in range(5)]
    await asyncio.gather(*(taker.beat() for taker in takers))
    assert await ticks(infra, name, takers) == 1


async def test_a_successor_started_while_the_dead_heartbeat_lingers_runs_once_it_runs_out(
    infra: Infrastructure,
) -> None:
    """Restarted 2 s after a SIGKILL, a worker still sees its predecessor's heartbeat: it asks again after
    a heartbeat's lifetime, not after the job's whole interval."""
    name = f"job-{uuid.uuid4().hex[:6]}"
    killed, successor = liveness(infra), liveness(infra)
    await killed.beat()
    assert await ticks(infra, name, [killed]) == 1
    await successor.beat()
    ran: list[str] = []

    async def run() -> None:
        ran.append(name)

    stop = asyncio.Event()
    loop = asyncio.create_task(
        run_periodic(PeriodicJob(name, INTERVAL, run), infra.redis, infra.settings.redis_prefix, stop, successor)
    )
    await asyncio.sleep(0.3)
    assert ran == []  # the predecessor's heartbeat is still there
    await infra.redis.delete(killed.key(killed.holder))  # and now it has run out
    for _ in range(30):  # within a heartbeat's lifetime (1.2 s here), not the 60 s interval
        if ran:
            break
        await asyncio.sleep(0.1)
    stop.set()
    await loop
    assert ran == [name]
