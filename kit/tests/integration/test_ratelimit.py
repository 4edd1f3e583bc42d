"""Rate limits (kit.ratelimit, real Redis): concurrent hits share pipelines yet count exactly; a refusal
is a 429 with a Retry-After inside the window; identifiers and kinds count apart; a window ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from jijiao_kit.errors import TooManyRequests
from jijiao_kit.ratelimit import RateLimits


@pytest.fixture
async def limits(settings_env: dict[str, Any]) -> AsyncIterator[RateLimits]:
    rate_limits = RateLimits(settings_env["redis_url"], f"{settings_env['name_prefix']}:ratelimit")
    yield rate_limits
    await rate_limits.close()


async def _outcomes(limits: RateLimits, limit: str, n: int, *identifiers: str, what: str) -> list[BaseException | None]:
    async def one() -> BaseException | None:
        try:
            await limits.hit(limit, *identifiers, what=what)
        except TooManyRequests as refused:
            return refused
        return None

    return await asyncio.gather(*(one() for _ in range(n)))


async def test_fifty_parallel_hits_on_ten_a_minute_pass_exactly_ten(limits: RateLimits) -> None:
    outcomes = await _outcomes(limits, "10/minute", 50, "t1", what="posts")
    refused = [o for o in outcomes if o is not None]
    assert len(refused) == 40
    first = refused[0]
    assert isinstance(first, TooManyRequests) and first.code == "rate_limited"
    assert 0 < int(first.headers["Retry-After"]) <= 60
    # Another teacher, and another kind of write of the same teacher, count on their own.
    assert await _outcomes(limits, "10/minute", 10, "t2", what="posts") == [None] * 10
    assert await _outcomes(limits, "10/minute", 10, "t1", what="ratings") == [None] * 10


async def test_a_window_ends_and_counting_starts_again(limits: RateLimits) -> None:
    assert await _outcomes(limits, "2/second", 2, "t3", what="joins") == [None, None]
    assert isinstance((await _outcomes(limits, "2/second", 1, "t3", what="joins"))[0], TooManyRequests)
    await asyncio.sleep(1.2)  # the window's key expires: what this test is about
    assert await _outcomes(limits, "2/second", 1, "t3", what="joins") == [None]
