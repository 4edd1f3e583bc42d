"""Idempotency-Key replays in Redis (shared by all API replicas).

Design: the first request with a key claims ``<prefix>idem:<principal>:<key>`` with SET NX (a
"pending" marker with a short TTL), runs, and stores its outcome (status and body, errors included)
for 24 hours. A retry with the same key gets the stored outcome replayed. A concurrent duplicate
that finds the marker still pending waits (polling) up to ``wait_seconds`` for the outcome and then
replays it; if the first is still running after that, it gets 409 ``idempotency_in_progress``. The
same key with a different request (path or body) is 422 ``idempotency_key_reused``. If the first
request dies with an unexpected error the marker is removed so a retry runs again."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis

from jijiao_kit.coalescing import PipelinedRedis
from jijiao_kit.errors import AppError, Conflict, InvalidInput

PENDING = "pending"


def fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


class IdempotencyStore:
    def __init__(
        self,
        redis: Redis,
        prefix: str,
        *,
        ttl_seconds: int = 24 * 3600,
        pending_ttl_seconds: int = 30,
        wait_seconds: float = 15.0,
    ) -> None:
        self.redis = redis
        self.commands = PipelinedRedis(redis)  # concurrent requests share round trips
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self.pending_ttl_seconds = pending_ttl_seconds
        self.wait_seconds = wait_seconds

    @classmethod
    def from_url(cls, url: str, prefix: str, *, max_connections: int = 64) -> IdempotencyStore:
        """Its own pool that waits for a free connection under a selection storm (the shared
        client's pool raises "Too many connections" instead)."""
        pool = BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=10, socket_timeout=5, decode_responses=True
        )
        return cls(Redis(connection_pool=pool), prefix)

    async def close(self) -> None:
        await self.redis.aclose()

    def _key(self, subject: str, key: str) -> str:
        return f"{self.prefix}idem:{subject}:{key}"

    async def run(
        self, subject: str, key: str, request_fingerprint: str, action: Callable[[], Awaitable[dict[str, Any]]]
    ) -> tuple[dict[str, Any], bool]:
        """Run ``action`` once per (subject, key); returns (result, replayed). Stored errors are
        raised again as the same ``AppError``."""
        redis_key = self._key(subject, key)
        marker = json.dumps({"state": PENDING, "fp": request_fingerprint})
        if await self.commands.execute("SET", redis_key, marker, "NX", "EX", self.pending_ttl_seconds):
            try:
                result = await action()
            except AppError as error:
                await self._store(redis_key, request_fingerprint, {"error": _error_record(error)})
                raise
            except BaseException:
                await self.commands.execute("DEL", redis_key)
                raise
            await self._store(redis_key, request_fingerprint, {"result": result})
            return result, False
        return await self._replay(redis_key, request_fingerprint), True

    async def _store(self, redis_key: str, request_fingerprint: str, outcome: dict[str, Any]) -> None:
        record = json.dumps({"state": "done", "fp": request_fingerprint, **outcome}, default=str)
        await self.commands.execute("SET", redis_key, record, "EX", self.ttl_seconds)

    async def _replay(self, redis_key: str, request_fingerprint: str) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + self.wait_seconds
        delay = 0.01
        while True:
            raw = await self.commands.execute("GET", redis_key)
            if raw is None:
                raise Conflict(
                    "The first request with this Idempotency-Key failed; retry with the same key.",
                    code="idempotency_retry",
                    title="请求处理失败，请重试",
                )
            record = json.loads(raw)
            if record.get("fp") != request_fingerprint:
                raise InvalidInput(
                    "This Idempotency-Key was used for a different request.",
                    code="idempotency_key_reused",
                    title="重复的请求标识用于了不同的请求",
                )
            if record["state"] != PENDING:
                if "error" in record:
                    raise _error_from(record["error"])
                result: dict[str, Any] = record["result"]
                return result
            if asyncio.get_running_loop().time() > deadline:
                raise Conflict(
                    "A request with this Idempotency-Key is still being processed.",
                    code="idempotency_in_progress",
                    title="相同的请求正在处理中，请稍后再试",
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.2)


def _error_record(error: AppError) -> dict[str, Any]:
    return {
        "status": error.status,
        "code": error.code,
        "title": error.title,
        "detail": error.detail,
        "extra": error.extra,
    }


def _error_from(record: dict[str, Any]) -> AppError:
    return AppError(
        record["detail"],
        code=record["code"],
        title=record["title"],
        status=int(record["status"]),
        extra=record.get("extra") or {},
    )
