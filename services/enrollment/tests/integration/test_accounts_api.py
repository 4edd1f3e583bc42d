"""Accounts over HTTP on the real store: lockout after 10 wrong passwords and unlocking by the
school (locked-user list, AccountUnlocked), password change for everyone, extra real-name school
admins, own profile, and phone re-binding behind a step-up token."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from roster_support import roster_env

from jijiao_kit.auth import load_or_create_keypair
from jijiao_kit.stepup import STEP_UP_HEADER, StepUpSigner
from jijiao_stack.pytest_plugin import bearer


async def login(env: Any, name: str, password: str) -> Any:
    """Sign in as the web form does: when the server asks for an image code, read one and answer it
    (the answer is taken from the store the API keeps it in, as a person would read the image)."""
    response = await env.client.post("/v1/auth/token", json={"login": name, "password": password})
    if response.status_code == 400 and response.json()["code"] == "captcha_required":
        captcha = await solved_captcha(env)
        response = await env.client.post("/v1/auth/token", json={"login": name, "password": password, **captcha})
    return response


async def first_sign_in(env: Any, login_name: str, temporary: str, new_password: str) -> dict[str, str]:
    """An admin created with a temporary password replaces it at the first sign-in, then signs in again."""
    first = await login(env, login_name, temporary)
    assert first.status_code == 200 and first.json()["must_change_password"] is True, first.text
    changed = await env.client.post(
        "/v1/auth/password",
        json={"old_password": temporary, "new_password": new_password},
        headers=bearer(first.json()["access_token"]),
    )
    assert changed.status_code == 204, changed.text
    return bearer((await login(env, login_name, new_password)).json()["access_token"])


async def solved_captcha(env: Any, *, wrong: bool = False) -> dict[str, str]:
    issued = await env.client.post("/v1/auth/captcha")
    assert issued.status_code == 201, issued.text
    captcha_id = issued.json()["id"]
    assert env.container.auth.captchas is not None
    answer = await env.container.infra.redis.get(env.container.auth.captchas.key(captcha_id))
    return {"captcha_id": captcha_id, "captcha_answer": "0000" if wrong else answer.lower()}  # 0 is never drawn


async def test_after_three_wrong_passwords_the_login_needs_an_image_code(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with roster_env(settings_env, make_token) as env:
        school = await env.school("天河一小")
        teacher = await env.teacher(school, "陈晓明")
        ce, initial = teacher["ce_number"], teacher["id_number"][-6:]
        post = env.client.post
        wrong = [await post("/v1/auth/token", json={"login": ce, "password": "nope"}) for _ in range(3)]
        without = await post("/v1/auth/token", json={"login": ce, "password": initial})
        issued = await post("/v1/auth/captcha")
        bad = await solved_captcha(env, wrong=True)
        wrong_code = await post("/v1/auth/token", json={"login": ce, "password": initial, **bad})
        spent = await post("/v1/auth/token", json={"login": ce, "password": initial, **bad, "captcha_answer": "x"})
        good = await solved_captcha(env)
        signed_in = await post("/v1/auth/token", json={"login": ce, "password": initial, **good})
        reused = await post("/v1/auth/token", json={"login": ce, "password": initial, **good})
    assert [r.status_code for r in wrong] == [401, 401, 401]
    assert {r.json()["code"] for r in wrong} == {"invalid_credentials"}
    assert all("captcha_required" not in r.json() and "remaining_attempts" not in r.json() for r in wrong)
    assert without.status_code == 400 and without.json()["code"] == "captcha_required"
    assert issued.json()["image"].startswith("data:image/png;base64,iVBOR")  # a PNG
    assert wrong_code.status_code == 400 and wrong_code.json()["code"] == "captcha_invalid"
    assert spent.status_code == 400 and spent.json()["code"] == "captcha_invalid"  # one check per code
    assert signed_in.status_code == 200  # the answer is not case-sensitive; the failures are reset
    assert reused.status_code == 200  # no image code needed once the password was right


async def test_ten_wrong_passwords_lock_and_the_school_admin_unlocks(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with roster_env(settings_env, make_token, login_rate_per_login="100/minute") as env:
        school = await env.school("天河一小")
        other = await env.school("天河二小")
        teacher = await env.teacher(school, "陈晓明", mobile="13900000077")
        ce, initial = teacher["ce_number"], teacher["id_number"][-6:]
        attempts = [await login(env, ce, "wrong-password") for _ in range(10)]
        locked_right = await login(env, ce, initial)
        by_mobile = await login(env, "13900000077", initial)
        listed = await env.client.get(f"/v1/schools/{school['id']}/locked-users", headers=env.school_admin(school))
        other_list = await env.client.get(f"/v1/schools/{school['id']}/locked-users", headers=env.school_admin(other))
        foreign = await env.client.post(f"/v1/teachers/{ce}/unlock", headers=env.school_admin(other))
        district = await env.client.post(f"/v1/teachers/{ce}/unlock", headers=env.district())
        unlocked = await env.client.post(f"/v1/teachers/{ce}/unlock", headers=env.school_admin(school))
        twice = await env.client.post(f"/v1/teachers/{ce}/unlock", headers=env.school_admin(school))
        after = await login(env, ce, initial)
        for _ in range(10):
            await login(env, ce, "wrong-again")
        by_city = await env.client.post(f"/v1/teachers/{ce}/unlock", headers=env.city())
        empty = await env.client.get(f"/v1/schools/{school['id']}/locked-users", headers=env.school_admin(school))
        events = await env.outbox_types("teachers", ce)
        unlock_event = await env.outbox_payloads("teachers", ce, "enrollment.account_unlocked")
    assert [r.status_code for r in attempts] == [401] * 9 + [423]
    assert "remaining_attempts" not in attempts[0].json()  # nothing tells an account exists
    assert attempts[-1].json()["code"] == "account_locked"
    assert locked_right.status_code == 423 and by_mobile.status_code == 423
    assert [(u["kind"], u["login"], u["failed_attempts"]) for u in listed.json()] == [("teacher", ce, 10)]
    assert other_list.status_code == 403
    assert foreign.status_code == 403 and foreign.json()["code"] == "unlock_forbidden"
    assert district.status_code == 403
    assert unlocked.status_code == 204
    assert twice.status_code == 409 and twice.json()["code"] == "not_locked"
    assert after.status_code == 200 and after.json()["must_change_password"] is True
    assert empty.json() == []
    assert by_city.status_code == 204  # the city admin may unlock anyone
    assert events.count("enrollment.account_locked") == 2 and events.count("enrollment.account_unlocked") == 2
    assert unlock_event[0]["unlocked_by"] == f"account:sa-{school['id']}"


async def test_password_change_for_teachers_and_admins(settings_env: dict[str, Any], make_token: Any) -> None:
    async with roster_env(settings_env, make_token) as env:
        school = await env.school("天河一小")
        teacher = await env.teacher(school, "陈晓明")
        ce, initial = teacher["ce_number"], teacher["id_number"][-6:]
        token = bearer((await login(env, ce, initial)).json()["access_token"])
        wrong_old = await env.client.post(
            "/v1/auth/password", json={"old_password": "nope", "new_password": "Better2026"}, headers=token
        )
        weak = await env.client.post(
            "/v1/auth/password", json={"old_password": initial, "new_password": "short"}, headers=token
        )
        changed = await env.client.post(
            "/v1/auth/password", json={"old_password": initial, "new_password": "Better2026"}, headers=token
        )
        old_again = await login(env, ce, initial)
        fresh = await login(env, ce, "Better2026")
        claims = env.container.verifier.decode(fresh.json()["access_token"])
        failures = (await env.container.teachers.get(ce) or {})["credentials"]["failed_attempts"]

        city = bearer(make_token("city_admin", subject="account:root"))
        created = await env.client.post(
            "/v1/admins",
            json={
                "username": "tianhe01",
                "name": "天河区管理员",
                "mobile": "13800000101",
                "password": "District2026",
                "role": "district_admin",
                "district": "天河区",
            },
            headers=city,
        )
        admin_token = bearer((await login(env, "tianhe01", "District2026")).json()["access_token"])
        admin_changed = await env.client.post(
            "/v1/auth/password",
            json={"old_password": "District2026", "new_password": "Tianhe2027x"},
            headers=admin_token,
        )
        admin_login = await login(env, "tianhe01", "Tianhe2027x")
        other_school = await env.school("天河二小")
        foreign_reset = await env.client.post(
            f"/v1/auth/teachers/{ce}/password-reset", headers=env.school_admin(other_school)
        )
        reset = await env.client.post(f"/v1/auth/teachers/{ce}/password-reset", headers=env.school_admin(school))
        after_reset = await login(env, ce, initial)
        tokenless = await env.client.post(
            "/v1/auth/password",
            json={"old_password": "x", "new_password": "y"},
            headers=bearer(make_token("city_admin")),
        )
    assert wrong_old.status_code == 401
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"
    assert changed.status_code == 204
    assert old_again.status_code == 401
    assert fresh.status_code == 200 and fresh.json()["must_change_password"] is False
    assert claims["must_change_password"] is False
    assert failures == 0
    assert created.status_code == 201, created.text
    assert created.json()["district"] == "天河区" and created.json()["roles"] == ["district_admin"]
    assert admin_changed.status_code == 204 and admin_login.status_code == 200
    assert foreign_reset.status_code == 404
    assert reset.status_code == 204
    assert after_reset.status_code == 200 and after_reset.json()["must_change_password"] is True
    assert tokenless.status_code == 404  # a token that names no stored account has no password


async def test_extra_school_admins_are_real_name_and_scoped(settings_env: dict[str, Any], make_token: Any) -> None:
    async with roster_env(settings_env, make_token) as env:
        school = await env.school("天河一小")
        other = await env.school("越秀一小", district="越秀区")
        body = {"username": "tianhe1.li", "name": "李老师", "mobile": "13800000201", "password": "School2026a"}
        created = await env.client.post(
            f"/v1/schools/{school['id']}/admins", json=body, headers=env.school_admin(school)
        )
        second = await env.client.post(
            f"/v1/schools/{school['id']}/admins",
            json={**body, "username": "tianhe1.wang", "name": "王老师", "mobile": "13800000202"},
            headers=env.district("天河区"),
        )
        taken = await env.client.post(f"/v1/schools/{school['id']}/admins", json=body, headers=env.school_admin(school))
        foreign = await env.client.post(
            f"/v1/schools/{other['id']}/admins", json={**body, "username": "x.other"}, headers=env.school_admin(school)
        )
        other_district = await env.client.post(
            f"/v1/schools/{other['id']}/admins", json={**body, "username": "x.other2"}, headers=env.district("天河区")
        )
        shadow = await env.client.post(
            f"/v1/schools/{school['id']}/admins",
            json={**body, "username": "2026000001"},
            headers=env.school_admin(school),
        )
        escalate = await env.client.post(
            "/v1/admins",
            json={**body, "username": "sneaky", "role": "city_admin"},
            headers=env.school_admin(school),
        )
        listed = await env.client.get(f"/v1/schools/{school['id']}/admins", headers=env.school_admin(school))
        token = await login(env, "tianhe1.li", "School2026a")
        claims = env.container.verifier.decode(token.json()["access_token"])
        registered = await env.outbox_payloads("accounts", created.json()["id"], "enrollment.admin_registered")
    assert created.status_code == 201, created.text
    assert (created.json()["school_id"], created.json()["district"]) == (school["id"], "天河区")
    assert second.status_code == 201
    assert taken.status_code == 409 and taken.json()["code"] == "username_taken"
    assert foreign.status_code == 403 and other_district.status_code == 403
    assert shadow.status_code == 422 and shadow.json()["code"] == "invalid_username"
    assert escalate.status_code == 403
    assert {a["username"] for a in listed.json()} == {"tianhe1.li", "tianhe1.wang"}
    assert claims["roles"] == ["school_admin"] and claims["scopes"]["school_id"] == school["id"]
    assert registered[0]["mobile"] == "13800000201" and registered[0]["school_id"] == school["id"]


async def test_own_profile_and_phone_rebinding_with_a_step_up_token(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with roster_env(settings_env, make_token) as env:
        school = await env.school("天河一小")
        created = await env.client.post(
            f"/v1/schools/{school['id']}/admins",
            json={"username": "li.admin", "name": "李老师", "mobile": "13800000301", "password": "School2026a"},
            headers=env.school_admin(school),
        )
        account_id = created.json()["id"]
        await env.client.post(
            f"/v1/schools/{school['id']}/admins",
            json={"username": "wang.admin", "name": "王老师", "mobile": "13800000302", "password": "School2026a"},
            headers=env.school_admin(school),
        )
        me = await first_sign_in(env, "li.admin", "School2026a", "Libei2026x")
        edited = await env.client.patch(
            "/v1/admins/me",
            json={
                "name": "李静",
                "gender": "female",
                "phone": "020-12345678",
                "address": "天河路1号",
                "email": "li@example.com",
            },
            headers=me,
        )
        clash = await env.client.patch("/v1/admins/me", json={"username": "wang.admin"}, headers=me)
        mobile_here = await env.client.patch("/v1/admins/me", json={"mobile": "13800000399"}, headers=me)
        renamed = await env.client.patch("/v1/admins/me", json={"username": "li.jing"}, headers=me)
        teacher_me = await env.client.get("/v1/admins/me", headers=bearer(make_token("teacher", subject="teacher:1")))

        signer = StepUpSigner(load_or_create_keypair(settings_env["keys_dir"], "stepup").private_pem)
        subject = f"account:{account_id}"
        no_token = await env.client.post("/v1/admins/me/mobile", json={"mobile": "13800000399"}, headers=me)
        wrong_purpose = await env.client.post(
            "/v1/admins/me/mobile",
            json={"mobile": "13800000399"},
            headers={**me, STEP_UP_HEADER: signer.sign(subject, "export")},
        )
        someone_else = await env.client.post(
            "/v1/admins/me/mobile",
            json={"mobile": "13800000399"},
            headers={**me, STEP_UP_HEADER: signer.sign("account:other", "rebind_phone:13800000399")},
        )
        other_phone = await env.client.post(
            "/v1/admins/me/mobile",
            json={"mobile": "13800000399"},
            headers={**me, STEP_UP_HEADER: signer.sign(subject, "rebind_phone:13800000398")},
        )
        rebound = await env.client.post(
            "/v1/admins/me/mobile",
            json={"mobile": "13800000399"},
            headers={**me, STEP_UP_HEADER: signer.sign(subject, "rebind_phone:13800000399")},
        )
        by_new_mobile = await login(env, "13800000399", "Libei2026x")
        events = await env.outbox_payloads("accounts", account_id, "enrollment.admin_phone_rebound")
        changed = await env.outbox_payloads("accounts", account_id, "enrollment.admin_changed")
    assert edited.status_code == 200, edited.text
    profile = edited.json()
    assert (profile["name"], profile["gender"], profile["phone"], profile["address"], profile["email"]) == (
        "李静",
        "female",
        "020-12345678",
        "天河路1号",
        "li@example.com",
    )
    assert clash.status_code == 409 and clash.json()["code"] == "username_taken"
    assert mobile_here.status_code == 422
    assert renamed.json()["username"] == "li.jing"
    assert teacher_me.status_code == 403
    assert no_token.status_code == 403 and no_token.json()["code"] == "step_up_required"
    assert wrong_purpose.status_code == 403 and someone_else.status_code == 403 and other_phone.status_code == 403
    assert rebound.status_code == 200 and rebound.json()["mobile"] == "13800000399"
    assert by_new_mobile.status_code == 200
    assert events == [{"subject": subject, "mobile": "13800000399"}]
    # name and email reach the contact book; a username change alone says nothing to it
    assert changed == [{"subject": subject, "name": "李静", "email": "li@example.com"}]


async def test_one_password_policy_at_creation_and_change_and_admins_change_a_temporary_one(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    """Issue 12 item 10: common passwords are refused for admins at creation and for everyone at change;
    an admin created with a password set for them must change it at the first sign-in."""
    async with roster_env(settings_env, make_token) as env:
        school = await env.school("天河一小")
        city = bearer(make_token("city_admin", subject="account:root"))
        body = {"username": "tianhe02", "name": "天河区管理员", "mobile": "13800000102", "role": "district_admin"}
        refused = {
            password: await env.client.post(
                "/v1/admins", json={**body, "district": "天河区", "password": password}, headers=city
            )
            for password in ("12345678", "password", "password1")
        }
        created = await env.client.post(
            "/v1/admins", json={**body, "district": "天河区", "password": "Tianhe2026q"}, headers=city
        )
        first = await login(env, "tianhe02", "Tianhe2026q")
        blocked = await env.client.get(
            f"/v1/schools/{school['id']}/teachers", headers=bearer(first.json()["access_token"])
        )
        common = await env.client.post(
            "/v1/auth/password",
            json={"old_password": "Tianhe2026q", "new_password": "password1"},
            headers=bearer(first.json()["access_token"]),
        )
        teacher = await env.teacher(school, "陈晓明")
        ce, initial = teacher["ce_number"], teacher["id_number"][-6:]
        teacher_token = bearer((await login(env, ce, initial)).json()["access_token"])
        teacher_common = await env.client.post(
            "/v1/auth/password", json={"old_password": initial, "new_password": "password1"}, headers=teacher_token
        )
        admins = await env.db["accounts"].count_documents({"username": "tianhe02"})
    assert {p: r.status_code for p, r in refused.items()} == dict.fromkeys(refused, 422)
    assert [refused[p].json()["reason"] for p in refused] == [
        "needs_letters_and_digits",
        "needs_letters_and_digits",
        "too_common",
    ]
    assert {r.json()["code"] for r in refused.values()} == {"weak_password"}
    assert created.status_code == 201 and admins == 1  # the refused tries left no account
    assert first.json()["must_change_password"] is True
    assert blocked.status_code == 403 and blocked.json()["code"] == "password_change_required"
    assert common.status_code == 422 and common.json()["reason"] == "too_common"
    assert teacher_common.status_code == 422 and teacher_common.json()["reason"] == "too_common"
