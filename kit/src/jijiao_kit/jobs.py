"""Scheduled jobs in the worker. Every replica runs the loop; a Redis lock lets one run each tick.
Jobs must be idempotent (a tick may be repeated after a crash), so they only ever act on state
that says it still needs the action."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval_seconds: float
    run: Callable[[], Awaitable[object]]


async def run_periodic(job: PeriodicJob, redis: Redis, key_prefix: str, stop: asyncio.Event) -> None:
    lock_key = f"{key_prefix}job:{job.name}"
    ttl_ms = max(int(job.interval_seconds * 1000 * 0.9), 100)
    while not stop.is_set():
        try:
            if await redis.set(lock_key, "1", nx=True, px=ttl_ms):
                await job.run()
        except Exception:
            logger.exception("scheduled job %s failed", job.name)
        try:
            await asyncio.wait_for(stop.wait(), timeout=job.interval_seconds)
        except TimeoutError:
            pass
