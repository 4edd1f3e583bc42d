"""Rate limits shared by every replica of a service: the ``limits`` library's fixed-window counters
in Redis (one atomic INCR per hit). A refused hit is a 429 problem with ``Retry-After``.

Limits are written as ``limits`` strings ("10/minute", "30 per 5 minutes"); identifiers name what is
counted (the client address, the login text, the admin). Keys live under the service's Redis prefix."""

from __future__ import annotations

import math
import time
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter
from redis.asyncio import BlockingConnectionPool

from jijiao_kit.errors import TooManyRequests


def _async_uri(redis_url: str) -> str:
    scheme, sep, rest = redis_url.partition("://")
    return f"async+{scheme}{sep}{rest}" if not scheme.startswith("async+") else redis_url


class RateLimits:
    def __init__(self, redis_url: str, key_prefix: str, *, max_connections: int = 32) -> None:
        # A blocking pool: a burst of hits waits for a connection instead of failing past the pool size.
        pool = BlockingConnectionPool.from_url(redis_url, max_connections=max_connections, timeout=10, socket_timeout=5)
        options: dict[str, Any] = {"connection_pool": pool}
        self.storage = RedisStorage(
            _async_uri(redis_url), implementation="redispy", key_prefix=key_prefix.rstrip(":"), **options
        )
        self.limiter = FixedWindowRateLimiter(self.storage)
        self._items: dict[str, RateLimitItem] = {}

    def _item(self, limit: str) -> RateLimitItem:
        item = self._items.get(limit)
        if item is None:
            item = self._items[limit] = parse(limit)
        return item

    async def hit(self, limit: str, *identifiers: str, what: str) -> None:
        """Count one hit; raise 429 (``rate_limited``, Retry-After in whole seconds) past the limit."""
        item = self._item(limit)
        if await self.limiter.hit(item, what, *identifiers):
            return
        stats = await self.limiter.get_window_stats(item, what, *identifiers)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(
            f"Too many {what} requests; retry after {retry_after} s.",
            code="rate_limited",
            title="操作过于频繁，请稍后再试",
            headers={"Retry-After": str(retry_after)},
            extra={"retry_after": retry_after},
        )
