"""Scheduled jobs in the worker. Every replica runs the loop; a Redis lock lets one run each tick.
Jobs must be idempotent (a tick may be repeated after a crash), so they only ever act on state
that says it still needs the action.

The lock names its holder (the worker's heartbeat, ``jijiao_kit.liveness``): a lock whose holder's
heartbeat is gone (a SIGKILLed worker) is taken over at once by compare-and-delete, instead of
blocking the job until the lock's own expiry (most of an interval: the fault suite saw a restarted
notify worker wait 60 s for the term reminders its killed predecessor had locked)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from jijiao_kit.liveness import Liveness

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval_seconds: float
    run: Callable[[], Awaitable[object]]


#: Delete KEYS[1] only if it still holds ARGV[1] (the dead holder read): of two takers one wins.
_DELETE_IF = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"


async def _take_lock(redis: Redis, lock_key: str, ttl_ms: int, liveness: Liveness | None) -> bool:
    holder = liveness.holder if liveness is not None else "1"
    if await redis.set(lock_key, holder, nx=True, px=ttl_ms):
        return True
    if liveness is None:
        return False
    current = await redis.get(lock_key)
    held_by = current.decode() if isinstance(current, bytes) else current
    if not held_by or held_by not in await liveness.dead([held_by]):
        return False
    logger.warning("job lock %s: its holder %s is gone; taken over", lock_key, held_by)
    await redis.eval(_DELETE_IF, 1, lock_key, held_by)
    return bool(await redis.set(lock_key, holder, nx=True, px=ttl_ms))


async def run_periodic(
    job: PeriodicJob, redis: Redis, key_prefix: str, stop: asyncio.Event, liveness: Liveness | None = None
) -> None:
    lock_key = f"{key_prefix}job:{job.name}"
    ttl_ms = max(int(job.interval_seconds * 1000 * 0.9), 100)
    # A lock held by another worker is asked about again once a heartbeat could have run out (a worker
    # restarted after a SIGKILL finds its predecessor's heartbeat still alive for a few seconds).
    recheck = min(job.interval_seconds, liveness.ttl_seconds + liveness.beat_seconds) if liveness else None
    while not stop.is_set():
        wait = job.interval_seconds
        try:
            if await _take_lock(redis, lock_key, ttl_ms, liveness):
                await job.run()
            elif recheck is not None:
                wait = recheck
        except Exception:
            logger.exception("scheduled job %s failed", job.name)
        try:
            await asyncio.wait_for(stop.wait(), timeout=wait)
        except TimeoutError:
            pass
