"""Issue 12 item 2: nobody can lock an account without passing image codes, an unknown login and a
wrong password answer alike, and logins are rate-limited per client and per login (429 + Retry-After)."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from roster_support import roster_env


async def test_twelve_simultaneous_wrong_logins_without_image_code_do_not_lock(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with roster_env(settings_env, make_token) as env:
        school = await env.school("天河一小")
        teacher = await env.teacher(school, "陈晓明", mobile="13900000077")
        ce, initial = teacher["ce_number"], teacher["id_number"][-6:]
        for login in (ce, "13900000077"):
            answers = await asyncio.gather(
                *(env.client.post("/v1/auth/token", json={"login": login, "password": "wrong-1"}) for _ in range(12))
            )
            assert {a.status_code for a in answers} <= {400, 401}, [a.text for a in answers]
            assert all(a.json()["code"] != "account_locked" for a in answers)
        doc = await env.container.teachers.get(ce)
        assert doc is not None
        assert not doc["credentials"].get("locked")
        assert doc["credentials"]["failed_attempts"] == 3  # counted up to the image code, never past it
        assert "enrollment.account_locked" not in await env.outbox_types("teachers", ce)
        # the owner still signs in (with an image code, as the form asks)
        from test_accounts_api import login as sign_in

        assert (await sign_in(env, ce, initial)).status_code == 200


async def test_unknown_login_and_wrong_password_answer_alike(settings_env: dict[str, Any], make_token: Any) -> None:
    async with roster_env(settings_env, make_token) as env:
        school = await env.school("天河一小")
        teacher = await env.teacher(school, "陈晓明")
        ce = teacher["ce_number"]
        unknown_ce = str(int(ce) + 1)
        await env.client.post("/v1/auth/token", json={"login": ce, "password": "warm-up"})
        await env.client.post("/v1/auth/token", json={"login": unknown_ce, "password": "warm-up"})

        async def timed(login: str) -> tuple[Any, float]:
            start = time.perf_counter()
            response = await env.client.post("/v1/auth/token", json={"login": login, "password": "wrong-2"})
            return response, time.perf_counter() - start

        known, known_s = await timed(ce)
        unknown, unknown_s = await timed(unknown_ce)
    assert known.status_code == unknown.status_code == 401
    assert known.json() == unknown.json()  # same code, title, detail; no remaining_attempts
    assert "remaining_attempts" not in known.json()
    assert unknown_s > known_s / 4  # the unknown login is hashed too (no instant answer)


async def test_an_unknown_login_asks_for_an_image_code_like_an_account(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with roster_env(settings_env, make_token) as env:
        school = await env.school("天河一小")
        ce = (await env.teacher(school, "陈晓明"))["ce_number"]
        unknown_ce = str(int(ce) + 1)
        answers = {}
        for login in (ce, unknown_ce):
            tries = [
                await env.client.post("/v1/auth/token", json={"login": login, "password": "wrong-3"}) for _ in range(4)
            ]
            answers[login] = [(t.status_code, t.json()["code"]) for t in tries]
    assert answers[ce] == answers[unknown_ce] == [(401, "invalid_credentials")] * 3 + [(400, "captcha_required")]


async def test_login_rate_limits_answer_429_with_retry_after(settings_env: dict[str, Any], make_token: Any) -> None:
    async with roster_env(
        settings_env, make_token, login_rate_per_login="4/minute", login_rate_per_client="6/minute"
    ) as env:
        tries = [await env.client.post("/v1/auth/token", json={"login": "nobody", "password": "x"}) for _ in range(5)]
        assert [t.status_code for t in tries] == [401, 401, 401, 400, 429]  # 400: the image code is due
        assert tries[-1].json()["code"] == "rate_limited" and int(tries[-1].headers["Retry-After"]) >= 1
        others = [await env.client.post("/v1/auth/token", json={"login": f"u{n}", "password": "x"}) for n in range(2)]
        assert [t.status_code for t in others] == [401, 429]  # the client's own limit (6 per minute)
        assert others[-1].headers["Retry-After"]


async def test_a_burst_of_logins_is_counted_exactly_by_the_client_limit(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with roster_env(settings_env, make_token, login_rate_per_client="60/minute") as env:
        answers = await asyncio.gather(
            *(env.client.post("/v1/auth/token", json={"login": f"user{n}", "password": "x"}) for n in range(120))
        )
    codes = [a.status_code for a in answers]
    assert codes.count(401) == 60 and codes.count(429) == 60, sorted(set(codes))
