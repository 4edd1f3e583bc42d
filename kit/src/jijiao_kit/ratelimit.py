"""Rate limits shared by every replica of a service: fixed-window counters in Redis. A refused hit is a
429 problem with ``Retry-After``.

Limits are written as ``limits`` strings ("10/minute", "30 per 5 minutes", parsed by the ``limits``
library); identifiers name what is counted (the client address, the login text, the admin). Keys live
under the service's Redis prefix.

Why not the ``limits`` library's own limiter: it sends one Redis command per hit on its own pooled
connection. On the community's write paths (every upload, post and rating counts) that was about a
sixth of the request cost under a storm. Here a hit is one small script (``INCR``, the window's expiry
on the first hit, the time left) sent through ``jijiao_kit.coalescing.PipelinedRedis``: concurrent hits
share one round trip, and each stays atomic on its own."""

from __future__ import annotations

import math

from limits import RateLimitItem, parse
from redis.asyncio import BlockingConnectionPool, Redis

from jijiao_kit.coalescing import PipelinedRedis
from jijiao_kit.errors import TooManyRequests

#: KEYS[1] the window's counter, ARGV[1] the window in ms -> {hits in the window, ms left in it}
_HIT = """
local hits = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {hits, left}
"""


class RateLimits:
    def __init__(self, redis_url: str, key_prefix: str, *, max_connections: int = 32) -> None:
        # A blocking pool: a burst of hits waits for a connection instead of failing past the pool size.
        pool = BlockingConnectionPool.from_url(redis_url, max_connections=max_connections, timeout=10, socket_timeout=5)
        self.redis: Redis = Redis(connection_pool=pool)
        self.pipeline = PipelinedRedis(self.redis)
        self.key_prefix = key_prefix.rstrip(":")
        self._items: dict[str, RateLimitItem] = {}

    def _item(self, limit: str) -> RateLimitItem:
        item = self._items.get(limit)
        if item is None:
            item = self._items[limit] = parse(limit)
        return item

    async def hit(self, limit: str, *identifiers: str, what: str) -> None:
        """Count one hit; raise 429 (``rate_limited``, Retry-After in whole seconds) past the limit."""
        item = self._item(limit)
        key = ":".join((self.key_prefix, item.key_for(what, *identifiers)))
        window_ms = item.get_expiry() * 1000
        hits, left_ms = await self.pipeline.execute("EVAL", _HIT, 1, key, window_ms)
        if int(hits) <= item.amount:
            return
        retry_after = max(1, math.ceil(int(left_ms) / 1000))
        raise TooManyRequests(
            f"Too many {what} requests; retry after {retry_after} s.",
            code="rate_limited",
            title="操作过于频繁，请稍后再试",
            headers={"Retry-After": str(retry_after)},
            extra={"retry_after": retry_after},
        )

    async def close(self) -> None:
        await self.redis.aclose()
