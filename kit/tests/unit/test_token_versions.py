"""Revoked tokens (kit.auth.TokenVersions): the principal dependency and the step-up dependency both
refuse a token older than the account's version; the version is remembered only briefly."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from fastapi import Depends, FastAPI

from jijiao_kit.auth import (
    TOKEN_VERSION,
    CurrentPrincipal,
    Principal,
    TokenIssuer,
    TokenVerifier,
    TokenVersions,
    load_or_create_keypair,
)
from jijiao_kit.errors import install_problem_handlers
from jijiao_kit.stepup import STEP_UP_HEADER, StepUpSigner, StepUpVerifier, require_step_up


class FakeRedis:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}
        self.gets = 0

    async def mget(self, keys: list[str]) -> list[Any]:
        self.gets += 1
        await asyncio.sleep(0)
        return [self.values.get(key) for key in keys]

    async def eval(self, script: str, numkeys: int, key: str, ttl_seconds: int) -> int:
        """The bump script with Redis's clock at 0 (versions count up by one); real Redis: integration."""
        self.values[key] = self.values.get(key, 0) + 1
        return self.values[key]


def app_with(tmp_path: Path, versions: TokenVersions) -> tuple[FastAPI, TokenIssuer, StepUpSigner]:
    keys = load_or_create_keypair(tmp_path, "auth")
    step_keys = load_or_create_keypair(tmp_path, "stepup")
    app = FastAPI()
    install_problem_handlers(app)
    app.state.token_verifier = TokenVerifier(keys.public_pem, issuer="i", audience="a")
    app.state.token_versions = versions
    app.state.step_up_required = True
    app.state.step_up_verifier = StepUpVerifier(step_keys.public_pem)

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, str]:
        return {"sub": principal.subject}

    @app.get("/export")
    async def export(principal: Principal = Depends(require_step_up("export"))) -> dict[str, str]:
        return {"sub": principal.subject}

    return (
        app,
        TokenIssuer(keys.private_pem, issuer="i", audience="a", ttl_seconds=600),
        StepUpSigner(step_keys.private_pem),
    )


async def test_a_bumped_version_refuses_earlier_tokens_in_both_dependencies(tmp_path: Path) -> None:
    redis = FakeRedis()
    versions = TokenVersions(redis, "sys:auth:tv:", cache_seconds=0, ttl_seconds=900)
    app, issuer, signer = app_with(tmp_path, versions)
    old = issuer.issue("teacher:1", {"roles": ["teacher"], TOKEN_VERSION: 0})
    legacy = issuer.issue("teacher:1", {"roles": ["teacher"]})  # no claim: version 0
    step = signer.sign("teacher:1", "export")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/me", headers={"Authorization": f"Bearer {old}"})).status_code == 200
        await versions.bump("teacher:1")
        for token in (old, legacy):
            refused = await client.get("/me", headers={"Authorization": f"Bearer {token}"})
            assert refused.status_code == 401 and refused.json()["code"] == "token_revoked"
        stepped = await client.get("/export", headers={"Authorization": f"Bearer {old}", STEP_UP_HEADER: step})
        assert stepped.status_code == 401 and stepped.json()["code"] == "token_revoked"
        fresh = issuer.issue("teacher:1", {"roles": ["teacher"], TOKEN_VERSION: await versions.current("teacher:1")})
        ok = await client.get("/export", headers={"Authorization": f"Bearer {fresh}", STEP_UP_HEADER: step})
        assert ok.status_code == 200
        other = issuer.issue("teacher:2", {"roles": ["teacher"], TOKEN_VERSION: 0})
        assert (await client.get("/me", headers={"Authorization": f"Bearer {other}"})).status_code == 200


async def test_versions_are_remembered_for_a_few_seconds_only() -> None:
    redis = FakeRedis()
    versions = TokenVersions(redis, "sys:auth:tv:", cache_seconds=60, ttl_seconds=900)
    assert await versions.current("a") == 0 and await versions.current("a") == 0
    assert redis.gets == 1  # one GET per account per cache period
    other_replica = TokenVersions(redis, "sys:auth:tv:", cache_seconds=0, ttl_seconds=900)
    await other_replica.bump("a")
    assert await versions.current("a") == 0  # this replica still remembers (bounded by cache_seconds)
    await versions.bump("a")
    assert await versions.current("a") == 2  # a replica's own bump is seen at once


async def test_concurrent_lookups_share_one_command() -> None:
    redis = FakeRedis()
    redis.values["sys:auth:tv:s7"] = 3
    versions = TokenVersions(redis, "sys:auth:tv:", cache_seconds=60, ttl_seconds=900)
    values = await asyncio.gather(*(versions.current(f"s{n % 10}") for n in range(200)))
    assert values == [3 if n % 10 == 7 else 0 for n in range(200)]
    assert redis.gets <= 2  # one MGET in flight, the rest share the next
