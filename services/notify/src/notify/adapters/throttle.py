"""Redis counters shared by every replica: the per-recipient send rate and verification-code throttles.
Time comes from the caller's clock (not Redis), so tests can drive it; each check is one Lua script,
so concurrent requests cannot both pass."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

# KEYS[1]: a sorted set of send times. ARGV: now, min_interval, window, cap, member.
# Returns {0, 0} when allowed (and records the send), {1, wait} when too soon after the last send,
# {2, wait} when the window already holds ``cap`` sends.
_SLIDING = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local cap = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if interval > 0 then
  local last = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if last[2] and now - tonumber(last[2]) < interval then
    return {1, tostring(interval - (now - tonumber(last[2])))}
  end
end
if redis.call('ZCARD', KEYS[1]) >= cap then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {2, tostring(tonumber(first[2]) + window - now)}
end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('EXPIRE', KEYS[1], math.ceil(window) + 60)
return {0, '0'}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str | None = None  # "interval" | "cap"
    retry_after: int = 0


class SlidingLimiter:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self._script = redis.register_script(_SLIDING)

    async def take(self, key: str, *, now: float, window: int, cap: int, min_interval: int = 0) -> Decision:
        code, wait = await self._script(
            keys=[f"{self.prefix}{key}"], args=[now, min_interval, window, cap, f"{now}:{uuid.uuid4().hex[:8]}"]
        )
        if int(code) == 0:
            return Decision(True)
        reason = "interval" if int(code) == 1 else "cap"
        return Decision(False, reason, max(1, math.ceil(float(wait))))

    async def take_many(self, keys: Sequence[str], *, now: float, window: int, cap: int) -> list[Decision]:
        """``take`` for many keys in one pipelined round trip (each key is still its own atomic script,
        so concurrent callers cannot both pass; a key given twice counts twice, in order)."""
        if not keys:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                await self._script(
                    keys=[f"{self.prefix}{key}"],
                    args=[now, 0, window, cap, f"{now}:{uuid.uuid4().hex[:8]}"],
                    client=pipe,
                )
            answers = await pipe.execute()
        decisions = []
        for code, wait in answers:
            if int(code) == 0:
                decisions.append(Decision(True))
            else:
                reason = "interval" if int(code) == 1 else "cap"
                decisions.append(Decision(False, reason, max(1, math.ceil(float(wait)))))
        return decisions
