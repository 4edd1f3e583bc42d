"""Token versions expire (kit.auth.TokenVersions, real Redis): a bump leaves a key with a TTL longer
than any access token it can refuse; a revoked token stays refused while the key lives; and after the
key has gone (read as 0) the next bump still refuses every token issued since the previous one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from jijiao_kit.auth import (
    CLOCK_SKEW_SECONDS,
    Principal,
    TokenVersions,
    revocation_ttl,
    token_version_namespace,
)
from jijiao_kit.errors import Unauthorized

ACCESS_TTL = 8 * 3600


@pytest.fixture
async def redis(settings_env: dict[str, Any]) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings_env["redis_url"])
    yield client
    await client.aclose()


def versions_for(redis: Redis, settings_env: dict[str, Any]) -> TokenVersions:
    return TokenVersions(
        redis,
        token_version_namespace(settings_env["name_prefix"]),
        cache_seconds=0,
        ttl_seconds=revocation_ttl(ACCESS_TTL),
    )


def teacher(version: int) -> Principal:
    return Principal(subject="teacher:T1", roles=frozenset({"teacher"}), token_version=version)


async def refused(versions: TokenVersions, principal: Principal) -> bool:
    try:
        await versions.check(principal)
    except Unauthorized as exc:
        assert exc.code == "token_revoked"
        return True
    return False


async def test_a_bump_sets_a_ttl_past_every_token_it_can_refuse(redis: Redis, settings_env: dict[str, Any]) -> None:
    versions = versions_for(redis, settings_env)
    assert revocation_ttl(ACCESS_TTL) > ACCESS_TTL + CLOCK_SKEW_SECONDS + versions.cache_seconds
    old = teacher(0)
    assert not await refused(versions, old)
    first = await versions.bump("teacher:T1")
    ttl = await redis.ttl(versions.key("teacher:T1"))
    assert revocation_ttl(ACCESS_TTL) - 5 <= ttl <= revocation_ttl(ACCESS_TTL)
    assert await refused(versions, old)  # refused while the key lives
    after_first = teacher(await versions.current("teacher:T1"))
    assert after_first.token_version == first and not await refused(versions, after_first)
    second = await versions.bump("teacher:T1")
    assert second > first
    assert await refused(versions, old) and await refused(versions, after_first)
    assert revocation_ttl(ACCESS_TTL) - 5 <= await redis.ttl(versions.key("teacher:T1"))  # renewed


async def test_after_the_key_expired_the_next_bump_still_refuses_tokens_issued_since_the_last(
    redis: Redis, settings_env: dict[str, Any]
) -> None:
    versions = versions_for(redis, settings_env)
    key = versions.key("teacher:T1")
    seconds, micros = await redis.time()
    an_hour_ago = (seconds - 3600) * 1000 + micros // 1000
    await redis.set(key, an_hour_ago, ex=revocation_ttl(ACCESS_TTL))  # the last bump, an hour ago
    live = teacher(await versions.current("teacher:T1"))  # issued after that bump: still valid
    assert live.token_version == an_hour_ago
    await redis.delete(key)  # the key's TTL ran out (every token issued before that bump has expired)
    assert await versions.current("teacher:T1") == 0
    assert not await refused(versions, live)  # a valid token stays valid when the key goes
    await versions.bump("teacher:T1")  # a revocation after the key had gone
    assert await refused(versions, live) and await refused(versions, teacher(0))


async def test_a_counter_of_an_old_deployment_only_grows(redis: Redis, settings_env: dict[str, Any]) -> None:
    versions = versions_for(redis, settings_env)
    key = versions.key("teacher:T1")
    await redis.set(key, 7)  # written by the former INCR, no TTL
    assert await versions.bump("teacher:T1") > 7
    assert await redis.ttl(key) > ACCESS_TTL
    await redis.set(key, 2**52)  # a version ahead of the clock: one more
    assert await versions.bump("teacher:T1") == 2**52 + 1
