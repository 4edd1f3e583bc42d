"""Issue 12 item 4: within seconds of a lock, a password change, an archive or a phone rebinding,
the account's earlier tokens are refused by every service (enrollment and hours here), through the
per-account token version (claim ``tv``) in Redis that kit.auth checks."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from roster_support import roster_env
from test_accounts_api import first_sign_in, login

from hours.bootstrap import build as build_hours
from hours.entrypoints.api.app import create_app as create_hours_api
from hours.settings import Settings as HoursSettings
from jijiao_kit.auth import load_or_create_keypair
from jijiao_kit.stepup import STEP_UP_HEADER, StepUpSigner
from jijiao_stack.pytest_plugin import api_client, bearer, eventually


async def test_lock_and_password_change_revoke_earlier_tokens_in_every_service(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    hours_container = build_hours(HoursSettings(**settings_env))
    async with (
        roster_env(settings_env, make_token, login_rate_per_login="100/minute") as env,
        api_client(create_hours_api(hours_container)) as hours,
    ):
        school = await env.school("天河一小")
        teacher = await env.teacher(school, "陈晓明")
        ce, initial = teacher["ce_number"], teacher["id_number"][-6:]
        await hours_container.teachers.upsert(  # hours' read copy of the roster, as its consumer writes it
            ce, {"school_id": school["id"], "district": school["district"], "name": "陈晓明"}, datetime.now(UTC)
        )
        first = bearer((await login(env, ce, initial)).json()["access_token"])
        changed = await env.client.post(
            "/v1/auth/password", json={"old_password": initial, "new_password": "Better2026x"}, headers=first
        )
        assert changed.status_code == 204, changed.text
        token = bearer((await login(env, ce, "Better2026x")).json()["access_token"])

        async def reads(headers: dict[str, str]) -> tuple[int, int]:
            own = await env.client.get(f"/v1/teachers/{ce}", headers=headers)
            bank = await hours.get(f"/v1/teachers/{ce}/years/2026/hours", headers=headers)
            return own.status_code, bank.status_code

        async def refused(headers: dict[str, str]) -> bool:
            own = await env.client.get(f"/v1/teachers/{ce}", headers=headers)
            bank = await hours.get(f"/v1/teachers/{ce}/years/2026/hours", headers=headers)
            return [own.status_code, bank.status_code] == [401, 401] and {
                own.json()["code"],
                bank.json()["code"],
            } == {"token_revoked"}

        assert await reads(token) == (200, 200)
        stale = await env.client.get(f"/v1/teachers/{ce}", headers=first)  # hours never took it (initial password)
        assert stale.status_code == 401 and stale.json()["code"] == "token_revoked"

        # a password change revokes the token used before it
        again = await env.client.post(
            "/v1/auth/password", json={"old_password": "Better2026x", "new_password": "Better2027y"}, headers=token
        )
        assert again.status_code == 204
        await eventually(lambda: refused(token), timeout=10)

        # a lock revokes the token signed in before it
        token = bearer((await login(env, ce, "Better2027y")).json()["access_token"])
        assert await reads(token) == (200, 200)
        for _ in range(10):
            await login(env, ce, "wrong-password")
        assert (await env.container.teachers.get(ce) or {})["credentials"]["locked"]
        await eventually(lambda: refused(token), timeout=10)


async def test_archive_and_phone_rebinding_revoke_earlier_tokens(settings_env: dict[str, Any], make_token: Any) -> None:
    async with roster_env(settings_env, make_token) as env:
        school = await env.school("天河一小")
        teacher = await env.teacher(school, "陈晓明")
        ce, initial = teacher["ce_number"], teacher["id_number"][-6:]
        first = bearer((await login(env, ce, initial)).json()["access_token"])
        await env.client.post(
            "/v1/auth/password", json={"old_password": initial, "new_password": "Better2026x"}, headers=first
        )
        token = bearer((await login(env, ce, "Better2026x")).json()["access_token"])
        assert (await env.client.get(f"/v1/teachers/{ce}", headers=token)).status_code == 200
        archived = await env.client.post(
            f"/v1/teachers/{ce}/archive", json={"status": "left"}, headers=env.school_admin(school)
        )
        assert archived.status_code == 200, archived.text
        after = await env.client.get(f"/v1/teachers/{ce}", headers=token)
        assert after.status_code == 401 and after.json()["code"] == "token_revoked"

        # a teacher's phone changed (info change approved by the school): the old phone's tokens end
        colleague = await env.teacher(school, "李华", mobile="13900000002")
        first = bearer((await login(env, colleague["ce_number"], colleague["id_number"][-6:])).json()["access_token"])
        await env.client.post(
            "/v1/auth/password",
            json={"old_password": colleague["id_number"][-6:], "new_password": "Lihua2026x"},
            headers=first,
        )
        mine = bearer((await login(env, colleague["ce_number"], "Lihua2026x")).json()["access_token"])
        url = f"/v1/teachers/{colleague['ce_number']}"
        submitted = await env.client.put(f"{url}/info-change", json={"mobile": "13900000098"}, headers=mine)
        assert submitted.status_code == 200, submitted.text
        assert (await env.client.get(url, headers=mine)).status_code == 200  # submitting alone changes nothing
        approved = await env.client.post(
            f"{url}/info-change/review", json={"approve": True}, headers=env.school_admin(school)
        )
        assert approved.status_code == 200, approved.text
        unbound = await env.client.get(url, headers=mine)
        assert unbound.status_code == 401 and unbound.json()["code"] == "token_revoked"

        created = await env.client.post(
            f"/v1/schools/{school['id']}/admins",
            json={"username": "li.admin", "name": "李老师", "mobile": "13800000301", "password": "School2026a"},
            headers=env.school_admin(school),
        )
        account_id = created.json()["id"]
        me = await first_sign_in(env, "li.admin", "School2026a", "Libei2026x")
        assert (await env.client.get("/v1/admins/me", headers=me)).status_code == 200
        signer = StepUpSigner(load_or_create_keypair(settings_env["keys_dir"], "stepup").private_pem)
        rebound = await env.client.post(
            "/v1/admins/me/mobile",
            json={"mobile": "13800000399"},
            headers={**me, STEP_UP_HEADER: signer.sign(f"account:{account_id}", "rebind_phone:13800000399")},
        )
        assert rebound.status_code == 200, rebound.text
        stale = await env.client.get("/v1/admins/me", headers=me)
        assert stale.status_code == 401 and stale.json()["code"] == "token_revoked"
