"""Readiness probes for the three dependencies every service has."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

Check = Callable[[], Awaitable[None]]


def mongo_check(client: AsyncMongoClient[Any]) -> Check:
    async def check() -> None:
        await client.admin.command("ping")

    return check


def redis_check(redis: Redis) -> Check:
    async def check() -> None:
        await redis.ping()

    return check


def rabbitmq_check(url: str) -> Check:
    """Opens and closes a connection: the API process holds none, and this must not hang."""

    async def check() -> None:
        connection = await aio_pika.connect(url, timeout=2)
        await connection.close()

    return check


async def run_checks(checks: dict[str, Check], timeout: float = 3.0) -> dict[str, str]:
    async def one(check: Check) -> str:
        try:
            await asyncio.wait_for(check(), timeout=timeout)
        except Exception as exc:
            return f"unavailable: {type(exc).__name__}"
        return "ok"

    names = list(checks)
    results = await asyncio.gather(*(one(checks[name]) for name in names))
    return dict(zip(names, results, strict=True))
