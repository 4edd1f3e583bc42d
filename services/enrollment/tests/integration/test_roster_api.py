"""Roster use cases over HTTP on the real store: schools by district, adding teachers (ID rules,
409 teacher_exists), listing with filters and scope, archiving, info-change review, the principal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from roster_support import id_number, roster_env

from jijiao_kit.auth import load_or_create_keypair
from jijiao_kit.stepup import STEP_UP_HEADER, StepUpSigner
from jijiao_stack.pytest_plugin import bearer, id_number_with_x


async def test_schools_are_listed_within_scope(settings_env: dict[str, Any], make_token: Any) -> None:
    async with roster_env(settings_env, make_token) as env:
        a = await env.school("天河一小")
        b = await env.school("天河二小")
        c = await env.school("越秀一小", district="越秀区")
        everything = await env.client.get("/v1/schools", headers=env.city())
        by_district = await env.client.get("/v1/schools", params={"district": "越秀区"}, headers=env.city())
        district_view = await env.client.get("/v1/schools", headers=env.district("天河区"))
        district_other = await env.client.get(
            "/v1/schools", params={"district": "越秀区"}, headers=env.district("天河区")
        )
        school_view = await env.client.get("/v1/schools", headers=env.school_admin(a))
        teacher_view = await env.client.get("/v1/schools", headers=bearer(make_token("teacher", ce_number="x")))
        other_school = await env.client.get(f"/v1/schools/{c['id']}", headers=env.school_admin(a))
        district_creates_elsewhere = await env.client.post(
            "/v1/schools",
            json={
                **{
                    k: v
                    for k, v in c.items()
                    if k in ("school_type", "seal_name", "town", "nature", "head_name", "head_mobile")
                },
                "name": "新校",
                "district": "越秀区",
            },
            headers=env.district("天河区"),
        )
    assert {s["id"] for s in everything.json()} == {a["id"], b["id"], c["id"]}
    assert [s["id"] for s in by_district.json()] == [c["id"]]
    assert {s["id"] for s in district_view.json()} == {a["id"], b["id"]}
    assert district_other.json() == []
    assert [s["id"] for s in school_view.json()] == [a["id"]]
    assert teacher_view.status_code == 403
    assert other_school.status_code == 403
    assert district_creates_elsewhere.status_code == 403


async def test_list_offsets_past_64_bit_integers_are_refused(settings_env: dict[str, Any], make_token: Any) -> None:
    """``skip`` reaches the store as a 64-bit integer: 10**20 was a 500 (OverflowError in the driver)."""
    async with roster_env(settings_env, make_token) as env:
        school = await env.school("天河一小")
        paths = ["/v1/schools", "/v1/teachers", f"/v1/schools/{school['id']}/teachers", "/v1/transfers"]
        huge = [await env.client.get(path, params={"skip": 10**20}, headers=env.city()) for path in paths]
        far = [await env.client.get(path, params={"skip": 1_000_000}, headers=env.city()) for path in paths]
    assert [(r.status_code, r.json()["code"]) for r in huge] == [(422, "validation_failed")] * 4
    assert [r.status_code for r in far] == [200] * 4


async def test_adding_teachers_validates_id_and_refuses_a_second_record(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with roster_env(settings_env, make_token) as env:
        school = await env.school("天河一小")
        other = await env.school("天河二小")
        number = id_number_with_x()
        created = await env.client.post(
            f"/v1/schools/{school['id']}/teachers",
            json={"name": "陈晓明", "id_number": number.lower(), "mobile": "13900000001", "stage": "junior"},
            headers=env.school_admin(school),
        )
        again = await env.client.post(
            f"/v1/schools/{other['id']}/teachers",
            json={"name": "陈晓明", "id_number": number, "mobile": "13900000001"},
            headers=env.school_admin(other),
        )
        bad_check = await env.client.post(
            f"/v1/schools/{school['id']}/teachers",
            json={"name": "李静", "id_number": number[:-1] + "1", "mobile": "13900000002"},
            headers=env.school_admin(school),
        )
        wrong_school = await env.client.post(
            f"/v1/schools/{school['id']}/teachers",
            json={"name": "李静", "id_number": id_number(), "mobile": "13900000002"},
            headers=env.school_admin(other),
        )
        count = await env.db["teachers"].count_documents({})
    assert created.status_code == 201, created.text
    teacher = created.json()
    assert teacher["id_number"] == number and number.endswith("X")
    assert len(teacher["ce_number"]) == 10 and teacher["status"] == "active" and teacher["special_user"] is False
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["code"] == "teacher_exists" and again.json()["ce_number"] == teacher["ce_number"]
    assert "调动" in again.json()["title"]
    assert bad_check.status_code == 422 and bad_check.json()["code"] == "invalid_id_number"
    assert wrong_school.status_code == 403
    assert count == 1


async def test_teacher_lists_filter_mask_ids_and_keep_to_scope(
    settings_env: dict[str, Any], make_token: Any, keys_dir: Any
) -> None:
    async with roster_env(settings_env, make_token) as env:
        a = await env.school("天河一小")
        c = await env.school("越秀一小", district="越秀区")
        t1 = await env.teacher(a, "陈晓明", subject="语文")
        t2 = await env.teacher(a, "李静", subject="数学")
        t3 = await env.teacher(c, "王海燕")
        own = await env.client.get(f"/v1/schools/{a['id']}/teachers", headers=env.school_admin(a))
        by_name = await env.client.get("/v1/teachers", params={"name": "李"}, headers=env.school_admin(a))
        by_subject = await env.client.get("/v1/teachers", params={"subject": "语文"}, headers=env.city())
        district = await env.client.get("/v1/teachers", headers=env.district("越秀区"))
        outside = await env.client.get("/v1/teachers", params={"school_id": c["id"]}, headers=env.school_admin(a))
        by_id = await env.client.get("/v1/teachers", params={"id_number": t3["id_number"]}, headers=env.city())
        other_list = await env.client.get(f"/v1/schools/{c['id']}/teachers", headers=env.school_admin(a))
        self_view = await env.client.get(
            f"/v1/teachers/{t1['ce_number']}",
            headers=bearer(make_token("teacher", ce_number=t1["ce_number"], school_id=a["id"], district="天河区")),
        )
        peer_view = await env.client.get(
            f"/v1/teachers/{t2['ce_number']}",
            headers=bearer(make_token("teacher", ce_number=t1["ce_number"], school_id=a["id"], district="天河区")),
        )
        admin_view = await env.client.get(f"/v1/teachers/{t1['ce_number']}", headers=env.school_admin(a))
        signer = StepUpSigner(load_or_create_keypair(keys_dir, "stepup").private_pem)
        verified_view = await env.client.get(
            f"/v1/teachers/{t1['ce_number']}",
            headers={**env.school_admin(a), STEP_UP_HEADER: signer.sign(f"account:sa-{a['id']}", "view_sensitive")},
        )
        foreign_code = await env.client.get(
            f"/v1/teachers/{t1['ce_number']}",
            headers={**env.school_admin(a), STEP_UP_HEADER: signer.sign("account:someone-else", "view_sensitive")},
        )
    assert {t["ce_number"] for t in own.json()} == {t1["ce_number"], t2["ce_number"]}
    assert all("********" in t["id_number"] for t in own.json())
    assert [t["ce_number"] for t in by_name.json()] == [t2["ce_number"]]
    assert [t["ce_number"] for t in by_subject.json()] == [t1["ce_number"]]
    assert [t["ce_number"] for t in district.json()] == [t3["ce_number"]]
    assert outside.json() == []
    assert [t["ce_number"] for t in by_id.json()] == [t3["ce_number"]]
    assert other_list.status_code == 403
    assert self_view.status_code == 200 and self_view.json()["id_number"] == t1["id_number"]
    assert self_view.json()["id_number_masked"] is False
    # viewing a teacher's ID number needs the SMS step-up (DOMAIN §1): without it, masked
    assert admin_view.status_code == 200 and "********" in admin_view.json()["id_number"]
    assert admin_view.json()["id_number_masked"] is True
    assert verified_view.json()["id_number"] == t1["id_number"] and verified_view.json()["id_number_masked"] is False
    assert foreign_code.status_code == 403 and foreign_code.json()["code"] == "step_up_required"
    assert peer_view.status_code == 404


async def test_archiving_and_reactivation_emit_teacher_archived(settings_env: dict[str, Any], make_token: Any) -> None:
    async with roster_env(settings_env, make_token) as env:
        school = await env.school("天河一小")
        other = await env.school("天河二小")
        t1 = await env.teacher(school, "陈晓明")
        t2 = await env.teacher(school, "李静")
        ce = t1["ce_number"]
        left = await env.client.post(
            f"/v1/teachers/{ce}/archive", json={"status": "left"}, headers=env.school_admin(school)
        )
        again = await env.client.post(
            f"/v1/teachers/{ce}/archive", json={"status": "left"}, headers=env.school_admin(school)
        )
        foreign = await env.client.post(
            f"/v1/teachers/{ce}/archive", json={"status": "retired"}, headers=env.school_admin(other)
        )
        bad = await env.client.post(
            f"/v1/teachers/{ce}/archive", json={"status": "fired"}, headers=env.school_admin(school)
        )
        active = await env.client.post(
            f"/v1/teachers/{ce}/archive", json={"status": "active"}, headers=env.school_admin(school)
        )
        bulk = await env.client.post(
            f"/v1/schools/{school['id']}/teachers/archive",
            json={"ce_numbers": [ce, t2["ce_number"], "2099999999"], "status": "retired"},
            headers=env.school_admin(school),
        )
        retired = await env.client.get("/v1/teachers", params={"status": "retired"}, headers=env.school_admin(school))
        payloads = await env.outbox_payloads("teachers", ce, "enrollment.teacher_archived")
    assert left.status_code == 200 and left.json()["status"] == "left"
    assert again.status_code == 409 and again.json()["code"] == "status_unchanged"
    assert foreign.status_code == 404  # another school's admin does not even see the teacher
    assert bad.status_code == 422
    assert active.json()["status"] == "active"
    assert [(row["ce_number"], row["ok"]) for row in bulk.json()] == [
        (ce, True),
        (t2["ce_number"], True),
        ("2099999999", False),
    ]
    assert {t["ce_number"] for t in retired.json()} == {ce, t2["ce_number"]}
    assert [p["status"] for p in payloads] == ["left", "active", "retired"]


async def test_info_change_review_return_and_reopen_for_an_id_correction(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with roster_env(settings_env, make_token) as env:
        school = await env.school("天河一小")
        teacher = await env.teacher(school, "陈晓明", title="二级教师")
        other_teacher = await env.teacher(school, "李静")
        ce = teacher["ce_number"]
        me = bearer(
            make_token("teacher", subject=f"teacher:{ce}", ce_number=ce, school_id=school["id"], district="天河区")
        )
        admin = env.school_admin(school)

        # a plain change: submit → return with reason → submit again → approve
        submitted = await env.client.put(f"/v1/teachers/{ce}/info-change", json={"title": "一级教师"}, headers=me)
        not_mine = await env.client.put(
            f"/v1/teachers/{other_teacher['ce_number']}/info-change", json={"title": "x"}, headers=me
        )
        no_reason = await env.client.post(
            f"/v1/teachers/{ce}/info-change/review", json={"approve": False}, headers=admin
        )
        returned = await env.client.post(
            f"/v1/teachers/{ce}/info-change/review", json={"approve": False, "reason": "职称证书未上传"}, headers=admin
        )
        resubmitted = await env.client.put(f"/v1/teachers/{ce}/info-change", json={"title": "一级教师"}, headers=me)
        pending = await env.client.get("/v1/teachers", params={"review_state": "submitted"}, headers=admin)
        approved = await env.client.post(
            f"/v1/teachers/{ce}/info-change/review",
            json={"approve": True, "submission_id": resubmitted.json()["info_review"]["submission_id"]},
            headers=admin,
        )
        twice = await env.client.post(f"/v1/teachers/{ce}/info-change/review", json={"approve": True}, headers=admin)

        # a wrong ID number: only after the school re-opens the record (重新更新)
        new_id = id_number_with_x()
        refused = await env.client.put(f"/v1/teachers/{ce}/info-change", json={"id_number": new_id}, headers=me)
        reopened = await env.client.post(f"/v1/teachers/{ce}/reopen", json={"reason": "身份证号码有误"}, headers=admin)
        taken = await env.client.put(
            f"/v1/teachers/{ce}/info-change", json={"id_number": other_teacher["id_number"]}, headers=me
        )
        bad = await env.client.put(f"/v1/teachers/{ce}/info-change", json={"id_number": new_id[:-1] + "1"}, headers=me)
        corrected = await env.client.put(
            f"/v1/teachers/{ce}/info-change", json={"id_number": new_id.lower(), "name": "陈晓敏"}, headers=me
        )
        applied = await env.client.post(f"/v1/teachers/{ce}/info-change/review", json={"approve": True}, headers=admin)
        after = await env.client.get(f"/v1/teachers/{ce}", headers=me)  # the full number: the teacher themself
        relocked = await env.client.put(f"/v1/teachers/{ce}/info-change", json={"name": "又改名"}, headers=me)
        changed = await env.outbox_payloads("teachers", ce, "enrollment.teacher_changed")
        reviewed = await env.outbox_payloads("teachers", ce, "enrollment.info_change_reviewed")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["info_review"]["state"] == "submitted"
    assert submitted.json()["title"] == "二级教师"  # not applied before review
    assert not_mine.status_code == 403
    assert no_reason.status_code == 422
    assert returned.json()["info_review"]["state"] == "returned"
    assert returned.json()["info_review"]["reason"] == "职称证书未上传"
    assert [t["ce_number"] for t in pending.json()] == [ce]
    assert approved.status_code == 200 and approved.json()["title"] == "一级教师"
    assert twice.status_code == 409 and twice.json()["code"] == "nothing_to_review"
    assert refused.status_code == 422 and refused.json()["code"] == "record_not_reopened"
    assert reopened.json()["info_review"]["reopened"] is True
    assert taken.status_code == 409 and taken.json()["code"] == "id_number_taken"
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_id_number"
    assert corrected.status_code == 200, corrected.text
    assert applied.status_code == 200, applied.text
    assert after.json()["id_number"] == new_id and after.json()["name"] == "陈晓敏"
    assert after.json()["info_review"]["reopened"] is False
    assert relocked.status_code == 422
    assert [c["title"] for c in changed] == ["一级教师", "一级教师"]
    assert changed[-1]["name"] == "陈晓敏"
    # Each decision tells the teacher (notify routes it): the return with its reason, then two approvals.
    decisions = sorted(((r["approved"], r["reason"], r["name"]) for r in reviewed), key=str)
    assert decisions == sorted(
        [(False, "职称证书未上传", "陈晓明"), (True, None, "陈晓明"), (True, None, "陈晓敏")], key=str
    )


async def test_one_principal_per_school_and_the_principal_role_in_the_token(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with roster_env(settings_env, make_token) as env:
        school = await env.school("天河一小")
        other = await env.school("天河二小")
        head = await env.teacher(school, "林校长", id_number=id_number(901))
        deputy = await env.teacher(school, "黄副校长", id_number=id_number(902))
        stranger = await env.teacher(other, "外校教师", id_number=id_number(903))
        admin = env.school_admin(school)
        granted = await env.client.put(
            f"/v1/schools/{school['id']}/principal", json={"ce_number": head["ce_number"]}, headers=admin
        )
        second = await env.client.put(
            f"/v1/schools/{school['id']}/principal", json={"ce_number": deputy["ce_number"]}, headers=admin
        )
        foreign = await env.client.put(
            f"/v1/schools/{school['id']}/principal", json={"ce_number": stranger["ce_number"]}, headers=admin
        )
        by_other_school = await env.client.put(
            f"/v1/schools/{school['id']}/principal",
            json={"ce_number": head["ce_number"]},
            headers=env.school_admin(other),
        )
        login = await env.client.post(
            "/v1/auth/token", json={"login": head["ce_number"], "password": head["id_number"][-6:]}
        )
        claims = env.container.verifier.decode(login.json()["access_token"])
        on_initial = await env.client.get(
            f"/v1/schools/{school['id']}/teachers", headers=bearer(login.json()["access_token"])
        )
        changed = await env.client.post(  # the initial password must be replaced first
            "/v1/auth/password",
            json={"old_password": head["id_number"][-6:], "new_password": "Linxz2026a"},
            headers=bearer(login.json()["access_token"]),
        )
        relogin = await env.client.post(  # the change revoked the old token: sign in again
            "/v1/auth/token", json={"login": head["ce_number"], "password": "Linxz2026a"}
        )
        as_principal = await env.client.get(
            f"/v1/schools/{school['id']}/teachers", headers=bearer(relogin.json()["access_token"])
        )
        revoked = await env.client.delete(f"/v1/schools/{school['id']}/principal", headers=admin)
        regranted = await env.client.put(
            f"/v1/schools/{school['id']}/principal", json={"ce_number": deputy["ce_number"]}, headers=admin
        )
        old_login = await env.client.post("/v1/auth/token", json={"login": head["ce_number"], "password": "Linxz2026a"})
        old_claims = env.container.verifier.decode(old_login.json()["access_token"])
    assert granted.status_code == 200 and granted.json()["principal_ce_number"] == head["ce_number"]
    assert second.status_code == 409 and second.json()["code"] == "principal_exists"
    assert foreign.status_code == 404
    assert by_other_school.status_code == 403
    assert set(claims["roles"]) == {"teacher", "principal"}
    assert claims["scopes"]["school_id"] == school["id"]
    assert claims["must_change_password"] is True
    assert on_initial.status_code == 403 and on_initial.json()["code"] == "password_change_required"
    assert changed.status_code == 204
    assert as_principal.status_code == 200
    assert revoked.json()["principal_ce_number"] is None
    assert regranted.json()["principal_ce_number"] == deputy["ce_number"]
    assert old_claims["roles"] == ["teacher"]
