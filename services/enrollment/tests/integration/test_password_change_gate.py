"""must_change_password is enforced (DOMAIN §1: the initial password, told by SMS, must be replaced):
with a token issued on the initial (or a reset) password a user may only change the password and read
its own profile; every other enrollment call is 403 ``password_change_required``. After the change the
old token stops blocking and a new login carries no claim. Real store, HTTP through the whole app."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from roster_support import roster_env

from jijiao_kit.errors import PROBLEM_JSON
from jijiao_stack.pytest_plugin import bearer


async def login(env: Any, name: str, password: str) -> Any:
    response = await env.client.post("/v1/auth/token", json={"login": name, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def blocked(response: Any) -> bool:
    return bool(
        response.status_code == 403
        and response.headers["content-type"].startswith(PROBLEM_JSON)
        and response.json()["code"] == "password_change_required"
        and response.json()["title"] == "请先修改初始密码后再使用系统"
    )


async def test_a_teacher_on_the_initial_password_may_only_change_it(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with roster_env(settings_env, make_token) as env:
        school = await env.school("天河一小")
        teacher = await env.teacher(school, "陈晓明")
        colleague = await env.teacher(school, "李华", mobile="13900000002")
        ce, initial = teacher["ce_number"], teacher["id_number"][-6:]
        first = await login(env, ce, initial)
        token = bearer(first["access_token"])
        claims = env.container.verifier.decode(first["access_token"])

        own_profile = await env.client.get(f"/v1/teachers/{ce}", headers=token)
        others_profile = await env.client.get(f"/v1/teachers/{colleague['ce_number']}", headers=token)
        info_change = await env.client.put(
            f"/v1/teachers/{ce}/info-change", json={"mobile": "13900000099"}, headers=token
        )
        selection = await env.client.post(
            "/v1/terms/2602/selections", json={"ce_number": ce, "course_code": "2602100001"}, headers=token
        )
        catalogue = await env.client.get("/v1/terms/2602/courses", headers=token)

        changed = await env.client.post(
            "/v1/auth/password", json={"old_password": initial, "new_password": "Chenxm2026"}, headers=token
        )
        old_token_after = await env.client.put(
            f"/v1/teachers/{ce}/info-change", json={"mobile": "13900000099"}, headers=token
        )
        second = await login(env, ce, "Chenxm2026")
        fresh = bearer(second["access_token"])
        fresh_claims = env.container.verifier.decode(second["access_token"])
        selection_after = await env.client.post(
            "/v1/terms/2602/selections", json={"ce_number": ce, "course_code": "2602100001"}, headers=fresh
        )
        health = await env.client.get("/healthz", headers=token)

    assert first["must_change_password"] is True and claims["must_change_password"] is True
    assert own_profile.status_code == 200 and own_profile.json()["ce_number"] == ce
    assert blocked(others_profile)
    assert blocked(info_change)
    assert blocked(selection)
    assert blocked(catalogue)
    assert changed.status_code == 204, changed.text
    # the password change revokes every earlier token (issue 12 item 4): sign in again
    assert old_token_after.status_code == 401 and old_token_after.json()["code"] == "token_revoked"
    assert second["must_change_password"] is False and fresh_claims["must_change_password"] is False
    assert selection_after.json().get("code") != "password_change_required"
    assert health.status_code == 200


async def test_a_reset_password_blocks_again_and_a_principal_is_held_too(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with roster_env(settings_env, make_token) as env:
        school = await env.school("天河一小")
        head = await env.teacher(school, "林校长")
        ce, initial = head["ce_number"], head["id_number"][-6:]
        admin = env.school_admin(school)
        granted = await env.client.put(f"/v1/schools/{school['id']}/principal", json={"ce_number": ce}, headers=admin)
        assert granted.status_code == 200, granted.text

        on_initial = bearer((await login(env, ce, initial))["access_token"])
        as_principal_before = await env.client.get(f"/v1/schools/{school['id']}/teachers", headers=on_initial)
        changed = await env.client.post(
            "/v1/auth/password", json={"old_password": initial, "new_password": "Linxz2026a"}, headers=on_initial
        )
        changed_token = bearer((await login(env, ce, "Linxz2026a"))["access_token"])
        as_principal_after = await env.client.get(f"/v1/schools/{school['id']}/teachers", headers=changed_token)

        reset = await env.client.post(f"/v1/auth/teachers/{ce}/password-reset", headers=admin)
        after_reset = await login(env, ce, initial)
        reset_token = bearer(after_reset["access_token"])
        as_principal_reset = await env.client.get(f"/v1/schools/{school['id']}/teachers", headers=reset_token)
        # tokens without the claim (admins, other services' callers) are never held
        by_admin = await env.client.get(f"/v1/schools/{school['id']}/teachers", headers=admin)

    assert blocked(as_principal_before)
    assert changed.status_code == 204
    assert as_principal_after.status_code == 200
    assert reset.status_code == 204 and after_reset["must_change_password"] is True
    assert blocked(as_principal_reset)
    assert by_admin.status_code == 200


async def test_an_admin_account_that_must_change_reads_its_profile_only(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with roster_env(settings_env, make_token) as env:
        school = await env.school("天河一小")
        created = await env.client.post(
            "/v1/schools/" + school["id"] + "/admins",
            json={"username": "thyx01", "name": "王老师", "mobile": "13800000201", "password": "Initial2026"},
            headers=env.school_admin(school),
        )
        assert created.status_code == 201, created.text
        # an admin account whose password was set for it must be changed too (same flag)
        await env.db["accounts"].update_one({"username": "thyx01"}, {"$set": {"credentials.must_change": True}})
        token = bearer((await login(env, "thyx01", "Initial2026"))["access_token"])
        me = await env.client.get("/v1/admins/me", headers=token)
        edit = await env.client.patch("/v1/admins/me", json={"name": "王老师二"}, headers=token)
        teachers = await env.client.get(f"/v1/schools/{school['id']}/teachers", headers=token)
        changed = await env.client.post(
            "/v1/auth/password", json={"old_password": "Initial2026", "new_password": "Better2026w"}, headers=token
        )
        teachers_old_token = await env.client.get(f"/v1/schools/{school['id']}/teachers", headers=token)
        token = bearer((await login(env, "thyx01", "Better2026w"))["access_token"])
        teachers_after = await env.client.get(f"/v1/schools/{school['id']}/teachers", headers=token)

    assert me.status_code == 200 and me.json()["username"] == "thyx01"
    assert blocked(edit)
    assert blocked(teachers)
    assert changed.status_code == 204
    assert teachers_old_token.status_code == 401 and teachers_old_token.json()["code"] == "token_revoked"
    assert teachers_after.status_code == 200
