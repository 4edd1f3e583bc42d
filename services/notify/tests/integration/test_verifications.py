"""Verification codes and step-up tokens, with a controllable clock (FixedClock)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from jijiao_kit.auth import load_or_create_keypair
from jijiao_kit.clock import FixedClock
from jijiao_kit.errors import Forbidden
from jijiao_kit.stepup import STEP_UP_KEY_NAME, StepUpVerifier
from jijiao_stack.pytest_plugin import api_client, bearer
from notify.bootstrap import Container, build
from notify.entrypoints.api.app import create_app
from notify.settings import Settings

ADMIN = "account:city-1"
MOBILE = "13800000000"
T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


async def setup(settings_env: dict[str, Any], clock: FixedClock) -> Container:
    container = build(Settings(**settings_env), clock=clock)
    await container.contacts.upsert(
        ADMIN,
        {"kind": "admin", "name": "市继教中心管理员", "mobile": MOBILE, "roles": ["city_admin"]},
        T0 - timedelta(days=1),
    )
    return container


async def code_sent_to(container: Container, mobile: str) -> str:
    await container.delivery.run_once()
    [latest] = (await container.sink.list_to(mobile))[:1]
    text = str(latest["text"])
    start = text.index("验证码为") + len("验证码为")
    return text[start : start + 6]


async def request(client: httpx.AsyncClient, token: str, **body: Any) -> httpx.Response:
    return await client.post("/v1/verifications", json={"purpose": "export", **body}, headers=bearer(token))


async def test_code_goes_to_the_bound_mobile_and_mints_a_30_minute_token(
    settings_env: dict[str, Any], make_token: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # the production level (pymongo's DEBUG command log is off)
    clock = FixedClock(T0)
    container = await setup(settings_env, clock)
    token = make_token("city_admin", subject=ADMIN)
    async with api_client(create_app(build(container.settings, clock=clock))) as client:
        created = await request(client, token)
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["masked_mobile"] == "138****0000"
        assert datetime.fromisoformat(body["expires_at"]) == T0 + timedelta(minutes=5)
        code = await code_sent_to(container, MOBILE)
        stored = await container.infra.db["verifications"].find_one({"_id": body["id"]})
        assert stored is not None and code not in str(stored)  # only the hash is kept
        log = await client.get("/v1/messages", params={"to": MOBILE}, headers=bearer(token))
        assert log.status_code == 200 and code not in log.text and "******" in log.text
        wrong_owner = await client.post(
            f"/v1/verifications/{body['id']}/check", json={"code": code}, headers=bearer(make_token("city_admin"))
        )
        checked = await client.post(f"/v1/verifications/{body['id']}/check", json={"code": code}, headers=bearer(token))
        again = await client.post(f"/v1/verifications/{body['id']}/check", json={"code": code}, headers=bearer(token))
    assert wrong_owner.status_code == 404
    assert checked.status_code == 200, checked.text
    step_up = checked.json()["step_up_token"]
    assert checked.json()["purpose"] == "export"
    assert datetime.fromisoformat(checked.json()["expires_at"]) == T0 + timedelta(minutes=30)
    assert again.status_code == 409 and again.json()["code"] == "verification_used"

    verifier = StepUpVerifier(load_or_create_keypair(settings_env["keys_dir"], STEP_UP_KEY_NAME).public_pem)
    issued = T0.timestamp()
    verifier.verify(step_up, subject=ADMIN, purpose="export", now=issued + 29 * 60 + 59)
    with pytest.raises(Forbidden):
        verifier.verify(step_up, subject=ADMIN, purpose="export", now=issued + 30 * 60)
    with pytest.raises(Forbidden):
        verifier.verify(step_up, subject="account:other", purpose="export", now=issued + 60)
    stored_sms = await container.messages.get(f"verification:{body['id']}:{ADMIN}:sms")
    assert stored_sms is not None and "send" not in stored_sms
    raw = await container.infra.db["messages"].find_one({"_id": f"verification:{body['id']}:{ADMIN}:sms"})
    assert raw is not None and "send" not in raw  # the plain text left the store once sent
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert code not in logged and step_up not in logged
    await container.infra.close()


async def test_resend_throttle_hourly_cap_and_expiry(settings_env: dict[str, Any], make_token: Any) -> None:
    clock = FixedClock(T0)
    container = await setup(settings_env, clock)
    token = make_token("city_admin", subject=ADMIN)
    async with api_client(create_app(build(container.settings, clock=clock))) as client:
        first = await request(client, token)
        code = await code_sent_to(container, MOBILE)
        clock.advance(timedelta(seconds=20))
        too_soon = await request(client, token)
        assert too_soon.status_code == 429
        assert too_soon.json()["code"] == "verification_resend_too_soon"
        assert too_soon.headers["Retry-After"] == "40"
        assert too_soon.headers["content-type"].startswith("application/problem+json")
        for _ in range(4):
            clock.advance(timedelta(seconds=61))
            assert (await request(client, token)).status_code == 201
        clock.advance(timedelta(seconds=61))
        capped = await request(client, token)
        assert capped.status_code == 429 and capped.json()["code"] == "verification_hourly_cap"
        assert 0 < int(capped.headers["Retry-After"]) <= 3600

        expired_id = first.json()["id"]
        # The first code lived 5 minutes; the clock is now ~5 minutes later.
        clock.set(T0 + timedelta(minutes=5))
        expired = await client.post(f"/v1/verifications/{expired_id}/check", json={"code": code}, headers=bearer(token))
        assert expired.status_code == 410 and expired.json()["code"] == "verification_expired"

        clock.set(T0 + timedelta(hours=1, seconds=1))
        assert (await request(client, token)).status_code == 201  # the window moved on
    await container.delivery.run_once()
    assert len(await container.sink.list_to(MOBILE)) == 6
    await container.infra.close()


async def test_wrong_codes_are_limited_then_the_code_dies(settings_env: dict[str, Any], make_token: Any) -> None:
    clock = FixedClock(T0)
    container = await setup(settings_env, clock)
    token = make_token("city_admin", subject=ADMIN)
    async with api_client(create_app(build(container.settings, clock=clock))) as client:
        created = (await request(client, token)).json()
        code = await code_sent_to(container, MOBILE)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        url = f"/v1/verifications/{created['id']}/check"
        answers = [await client.post(url, json={"code": wrong}, headers=bearer(token)) for _ in range(5)]
        assert [a.status_code for a in answers] == [422] * 5
        assert [a.json()["remaining_attempts"] for a in answers] == [4, 3, 2, 1, 0]
        assert answers[0].json()["code"] == "verification_code_wrong"
        right = await client.post(url, json={"code": code}, headers=bearer(token))
        assert right.status_code == 410 and right.json()["code"] == "verification_dead"
        malformed = await client.post(url, json={"code": "12ab"}, headers=bearer(token))
        assert malformed.status_code == 422 and malformed.json()["code"] == "validation_failed"


async def test_parallel_checks_of_one_code_mint_at_most_one_token(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    clock = FixedClock(T0)
    container = await setup(settings_env, clock)
    token = make_token("city_admin", subject=ADMIN)
    async with api_client(create_app(build(container.settings, clock=clock))) as client:
        created = (await request(client, token)).json()
        code = await code_sent_to(container, MOBILE)
        url = f"/v1/verifications/{created['id']}/check"
        answers = await asyncio.gather(
            *(client.post(url, json={"code": code}, headers=bearer(token)) for _ in range(200))
        )
    statuses = [a.status_code for a in answers]
    assert statuses.count(200) == 1
    assert statuses.count(409) == 199


async def test_parallel_wrong_checks_count_at_most_the_limit(settings_env: dict[str, Any], make_token: Any) -> None:
    clock = FixedClock(T0)
    container = await setup(settings_env, clock)
    token = make_token("city_admin", subject=ADMIN)
    async with api_client(create_app(build(container.settings, clock=clock))) as client:
        created = (await request(client, token)).json()
        code = await code_sent_to(container, MOBILE)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        url = f"/v1/verifications/{created['id']}/check"
        answers = await asyncio.gather(
            *(client.post(url, json={"code": wrong}, headers=bearer(token)) for _ in range(200))
        )
    assert sorted(a.status_code for a in answers) == [410] * 195 + [422] * 5
    stored = await container.infra.db["verifications"].find_one({"_id": created["id"]})
    assert stored is not None and stored["wrong_attempts"] == 5 and stored["status"] == "dead"


async def test_rebinding_sends_the_code_to_the_new_phone_only(settings_env: dict[str, Any], make_token: Any) -> None:
    clock = FixedClock(T0)
    container = await setup(settings_env, clock)
    token = make_token("city_admin", subject=ADMIN)
    async with api_client(create_app(build(container.settings, clock=clock))) as client:
        no_number = await client.post("/v1/verifications", json={"purpose": "rebind_phone"}, headers=bearer(token))
        smuggled = await request(client, token, new_mobile="13911112222")
        same = await client.post(
            "/v1/verifications", json={"purpose": "rebind_phone", "new_mobile": MOBILE}, headers=bearer(token)
        )
        unknown = await client.post("/v1/verifications", json={"purpose": "drop_tables"}, headers=bearer(token))
        stranger = await request(client, make_token("city_admin", subject="account:nobody"))
        created = await client.post(
            "/v1/verifications", json={"purpose": "rebind_phone", "new_mobile": "13911112222"}, headers=bearer(token)
        )
        assert created.status_code == 201, created.text
        assert created.json()["masked_mobile"] == "139****2222"
        code = await code_sent_to(container, "13911112222")
        assert await container.sink.list_to(MOBILE) == []
        checked = await client.post(
            f"/v1/verifications/{created.json()['id']}/check", json={"code": code}, headers=bearer(token)
        )
    assert no_number.status_code == 422 and no_number.json()["code"] == "new_mobile_required"
    assert smuggled.status_code == 400 and smuggled.json()["code"] == "verification_mobile_not_allowed"
    assert same.status_code == 409 and same.json()["code"] == "mobile_already_bound"
    assert unknown.status_code == 422 and unknown.json()["code"] == "verification_unknown_purpose"
    assert stranger.status_code == 409 and stranger.json()["code"] == "no_bound_mobile"
    assert checked.status_code == 200 and checked.json()["purpose"] == "rebind_phone:13911112222"
