"""Removing what tests and benchmarks declared on the local broker, by name prefix.

AMQP cannot list queues, so this asks ``rabbitmqctl`` (present wherever the broker is local). Quorum
queues are not free (each is a small Raft log): a suite that leaves hundreds behind slows the broker
for everyone, so every run removes its own."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress

import aio_pika


def _names(kind: str) -> list[str]:
    if shutil.which("rabbitmqctl") is None:
        return []
    try:
        listed = subprocess.run(
            ["rabbitmqctl", "-q", f"list_{kind}", "name"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in listed.stdout.splitlines() if line.strip() and line.strip() != "name"]


async def delete_by_prefix(rabbitmq_url: str, prefixes: tuple[str, ...]) -> int:
    """Delete every queue and exchange whose name starts with one of ``prefixes``; returns how many."""
    queues = [name for name in _names("queues") if name.startswith(prefixes)]
    exchanges = [name for name in _names("exchanges") if name.startswith(prefixes)]
    if not queues and not exchanges:
        return 0
    deleted = 0
    connection = await aio_pika.connect(rabbitmq_url, timeout=10)
    async with connection:
        for name in queues:
            with suppress(Exception):
                channel = await connection.channel()
                await channel.queue_delete(name)
                await channel.close()
                deleted += 1
        for name in exchanges:
            with suppress(Exception):
                channel = await connection.channel()
                await channel.exchange_delete(name)
                await channel.close()
                deleted += 1
    return deleted


def delete_by_prefix_blocking(rabbitmq_url: str, prefixes: tuple[str, ...]) -> int:
    """``delete_by_prefix`` from synchronous code, even when an event loop runs in this thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, delete_by_prefix(rabbitmq_url, prefixes)).result()
