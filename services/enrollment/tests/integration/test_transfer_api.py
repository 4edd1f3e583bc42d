"""教师调动 over HTTP on the real store: the receiving school applies; the district admin approves
moves within its district and the city admin moves across districts; special users and teachers with
unpaid past selections are refused; a teacher archived as "left" arrives active; events go with the move."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from roster_support import Env, roster_env

from jijiao_stack.pytest_plugin import bearer


async def setup(env: Env) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    old = await env.school("天河一小")
    new = await env.school("天河二小")
    far = await env.school("越秀一小", district="越秀区")
    teacher = await env.teacher(old, "陈晓明")
    return old, new, far, teacher


async def test_same_district_transfer_is_approved_by_the_district_and_moves_the_teacher(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with roster_env(settings_env, make_token) as env:
        old, new, _far, teacher = await setup(env)
        ce = teacher["ce_number"]
        await env.client.put(
            f"/v1/schools/{old['id']}/principal",
            json={"ce_number": ce, "name": "陈晓明"},
            headers=env.school_admin(old),
        )
        await env.client.post(f"/v1/teachers/{ce}/archive", json={"status": "left"}, headers=env.school_admin(old))
        by_old_school = await env.client.post(
            f"/v1/schools/{new['id']}/transfers",
            json={"ce_number": ce, "name": "陈晓明"},
            headers=env.school_admin(old),
        )
        applied = await env.client.post(
            f"/v1/schools/{new['id']}/transfers",
            json={"ce_number": ce, "name": "陈晓明", "note": "新学期调入"},
            headers=env.school_admin(new),
        )
        duplicate = await env.client.post(
            f"/v1/schools/{new['id']}/transfers",
            json={"ce_number": ce, "name": "陈晓明"},
            headers=env.school_admin(new),
        )
        transfer = applied.json()
        awaiting = await env.client.get("/v1/transfers", params={"awaiting_me": True}, headers=env.district("天河区"))
        other_district = await env.client.post(
            f"/v1/transfers/{transfer['id']}/approve", headers=env.district("越秀区")
        )
        school_cannot = await env.client.post(f"/v1/transfers/{transfer['id']}/approve", headers=env.school_admin(new))
        approved = await env.client.post(f"/v1/transfers/{transfer['id']}/approve", headers=env.district("天河区"))
        again = await env.client.post(f"/v1/transfers/{transfer['id']}/approve", headers=env.district("天河区"))
        moved = await env.client.get(f"/v1/teachers/{ce}", headers=env.school_admin(new))
        old_view = await env.client.get(f"/v1/teachers/{ce}", headers=env.school_admin(old))
        receiving_list = await env.client.get("/v1/transfers", headers=env.school_admin(new))
        sending_list = await env.client.get("/v1/transfers", headers=env.school_admin(old))
        old_school = await env.container.schools.get(old["id"])
        events = await env.outbox_types("teachers", ce)
        transferred = await env.outbox_payloads("teachers", ce, "enrollment.teacher_transferred")
        decided = await env.outbox_payloads("transfers", transfer["id"], "enrollment.transfer_decided")
    assert by_old_school.status_code == 403
    assert applied.status_code == 201, applied.text
    assert transfer["approver_level"] == "district" and transfer["approver_district"] == "天河区"
    assert transfer["status"] == "pending" and transfer["from_school_id"] == old["id"]
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "transfer_pending"
    assert [t["id"] for t in awaiting.json()] == [transfer["id"]]
    assert other_district.status_code == 404 and other_district.json()["code"] == "transfer_not_found"  # out of scope
    assert school_cannot.status_code == 403 and school_cannot.json()["code"] == "transfer_forbidden"
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert again.status_code == 409 and again.json()["code"] == "transfer_decided"
    body = moved.json()
    assert (body["school_id"], body["school_name"], body["district"]) == (new["id"], "天河二小", "天河区")
    assert body["status"] == "active"  # archived as "left" by the old school, active on arrival
    assert old_view.status_code == 404
    assert old_school is not None and old_school["principal_ce_number"] is None  # the principal left the school
    assert [t["id"] for t in receiving_list.json()] == [transfer["id"]]
    assert [t["id"] for t in sending_list.json()] == [transfer["id"]]
    assert events[-2:] == ["enrollment.teacher_transferred", "enrollment.teacher_archived"]
    assert transferred == [
        {
            "ce_number": ce,
            "from_school_id": old["id"],
            "to_school_id": new["id"],
            "to_school_name": "天河二小",
            "from_district": "天河区",
            "to_district": "天河区",
        }
    ]
    # The receiving school, which applied, hears of the decision (notify routes it); exactly once.
    assert decided == [
        {
            "transfer_id": transfer["id"],
            "ce_number": ce,
            "teacher_name": "陈晓明",
            "from_school_id": old["id"],
            "to_school_id": new["id"],
            "to_school_name": "天河二小",
            "approved": True,
            "reason": None,
            "refusal": None,
        }
    ]
    assert "outbox" not in approved.json() and "outbox_pending" not in approved.json()


async def test_cross_district_transfer_needs_the_city_and_can_be_rejected(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with roster_env(settings_env, make_token) as env:
        old, _new, far, teacher = await setup(env)
        ce = teacher["ce_number"]
        first = (
            await env.client.post(
                f"/v1/schools/{far['id']}/transfers",
                json={"ce_number": ce, "name": "陈晓明"},
                headers=env.school_admin(far),
            )
        ).json()
        district_try = await env.client.post(f"/v1/transfers/{first['id']}/approve", headers=env.district("越秀区"))
        city_queue = await env.client.get("/v1/transfers", params={"awaiting_me": True}, headers=env.city())
        rejected = await env.client.post(
            f"/v1/transfers/{first['id']}/reject", json={"reason": "材料不全"}, headers=env.city()
        )
        reapplied = await env.client.post(
            f"/v1/schools/{far['id']}/transfers",
            json={"ce_number": ce, "name": "陈晓明"},
            headers=env.school_admin(far),
        )
        approved = await env.client.post(f"/v1/transfers/{reapplied.json()['id']}/approve", headers=env.city())
        moved = await env.container.teachers.get(ce)
        history = await env.client.get("/v1/transfers", params={"status": "rejected"}, headers=env.city())
        refused = await env.outbox_payloads("transfers", first["id"], "enrollment.transfer_decided")
    assert first["approver_level"] == "city" and first["approver_district"] is None
    assert [(e["approved"], e["reason"], e["refusal"], e["to_school_id"]) for e in refused] == [
        (False, "材料不全", None, far["id"])
    ]
    assert district_try.status_code == 403
    assert [t["id"] for t in city_queue.json()] == [first["id"]]
    assert rejected.json()["status"] == "rejected" and rejected.json()["reason"] == "材料不全"
    assert reapplied.status_code == 201  # the rejection freed the teacher's open slot
    assert approved.status_code == 200
    assert moved is not None and (moved["school_id"], moved["district"]) == (far["id"], "越秀区")
    assert moved["status"] == "active"
    assert [t["id"] for t in history.json()] == [first["id"]]
    assert old["id"] != far["id"]


async def test_special_users_and_unpaid_past_selections_are_refused(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with roster_env(settings_env, make_token) as env:
        old, new, _far, teacher = await setup(env)
        ce = teacher["ce_number"]
        debtor = await env.teacher(old, "李静")
        now = datetime.now(UTC)
        await env.db["terms"].insert_many(
            [
                {"_id": "2601", "year": 2026, "payment_due_at": now - timedelta(days=30)},
                {"_id": "2602", "year": 2026, "payment_due_at": now + timedelta(days=30)},
            ]
        )
        selection = {
            "ce_number": debtor["ce_number"],
            "status": "active",
            "course_code": "C1",
            "paid": False,
            "programme": "city",
            "training_fee_fen": 12000,
        }
        free = {**selection, "course_code": "S1", "programme": "school", "training_fee_fen": 0, "material_fee_fen": 0}
        await env.db["selections"].insert_many(
            [
                {"_id": uuid.uuid4().hex, "term": "2601", **free, "ce_number": ce},  # never billed: no obstacle
                {"_id": uuid.uuid4().hex, "term": "2601", **selection},
                {"_id": uuid.uuid4().hex, "term": "2602", **selection},  # current term: not yet due
                {"_id": uuid.uuid4().hex, "term": "2601", **selection, "course_code": "C2", "paid": True},
                {"_id": uuid.uuid4().hex, "term": "2601", **selection, "course_code": "C3", "status": "cancelled"},
            ]
        )
        await env.db["teachers"].update_one({"_id": ce}, {"$set": {"special_user": True}})
        special = await env.client.post(
            f"/v1/schools/{new['id']}/transfers",
            json={"ce_number": ce, "name": "陈晓明"},
            headers=env.school_admin(new),
        )
        unpaid = await env.client.post(
            f"/v1/schools/{new['id']}/transfers",
            json={"ce_number": debtor["ce_number"], "name": "李静"},
            headers=env.school_admin(new),
        )
        await env.db["selections"].update_many({"ce_number": debtor["ce_number"]}, {"$set": {"paid": True}})
        paid_up = await env.client.post(
            f"/v1/schools/{new['id']}/transfers",
            json={"ce_number": debtor["ce_number"], "name": "李静"},
            headers=env.school_admin(new),
        )
        # flagged between application and approval: the approval refuses and closes the application
        await env.db["teachers"].update_one({"_id": debtor["ce_number"]}, {"$set": {"special_user": True}})
        late = await env.client.post(f"/v1/transfers/{paid_up.json()['id']}/approve", headers=env.district())
        closed = await env.client.get(f"/v1/transfers/{paid_up.json()['id']}", headers=env.city())
        unknown = await env.client.post(
            f"/v1/schools/{new['id']}/transfers",
            json={"ce_number": "2099000001", "name": "陈晓明"},
            headers=env.school_admin(new),
        )
        same = await env.client.post(
            f"/v1/schools/{old['id']}/transfers",
            json={"ce_number": debtor["ce_number"], "name": "李静"},
            headers=env.school_admin(old),
        )
        stayed = await env.container.teachers.get(debtor["ce_number"])
        open_count = await env.db["transfers"].count_documents({"status": "pending"})
        debtor_events = await env.outbox_types("teachers", debtor["ce_number"])
        auto_refused = await env.outbox_payloads("transfers", paid_up.json()["id"], "enrollment.transfer_decided")
    assert special.status_code == 403 and special.json()["code"] == "special_user"
    assert unpaid.status_code == 409 and unpaid.json()["code"] == "unpaid_selections"
    assert unpaid.json()["selections"] == [{"term": "2601", "course_code": "C1"}]
    assert paid_up.status_code == 201, paid_up.text
    assert late.status_code == 403 and late.json()["code"] == "special_user"
    assert closed.json()["status"] == "rejected" and closed.json()["reason"] == "special_user"
    assert unknown.status_code == 404
    assert same.status_code == 409
    assert stayed is not None and stayed["school_id"] == old["id"]
    assert open_count == 0
    assert "enrollment.teacher_transferred" not in debtor_events
    # The refusal by the rule is announced like any decision, naming the rule.
    assert [(e["approved"], e["refusal"], e["teacher_name"]) for e in auto_refused] == [(False, "special_user", "李静")]


async def test_teacher_sees_own_transfers_only(settings_env: dict[str, Any], make_token: Any) -> None:
    async with roster_env(settings_env, make_token) as env:
        _old, new, _far, teacher = await setup(env)
        ce = teacher["ce_number"]
        applied = await env.client.post(
            f"/v1/schools/{new['id']}/transfers",
            json={"ce_number": ce, "name": "陈晓明"},
            headers=env.school_admin(new),
        )
        me = bearer(make_token("teacher", ce_number=ce))
        someone = bearer(make_token("teacher", ce_number="2026999999"))
        mine = await env.client.get("/v1/transfers", headers=me)
        theirs = await env.client.get(f"/v1/transfers/{applied.json()['id']}", headers=someone)
        cannot_apply = await env.client.post(
            f"/v1/schools/{new['id']}/transfers", json={"ce_number": ce, "name": "陈晓明"}, headers=me
        )
    assert [t["id"] for t in mine.json()] == [applied.json()["id"]]
    assert theirs.status_code == 404
    assert cannot_apply.status_code == 403


async def test_a_record_written_without_a_version_field_still_moves(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    """Records written directly in the shared shape (no ``version``) are moved too: the conditional
    write matches the missing field and starts the counter."""
    async with roster_env(settings_env, make_token) as env:
        old, new, _far, _teacher = await setup(env)
        await env.db["teachers"].insert_one(
            {
                "_id": "2026990001",
                "name": "旧数据",
                "id_number": "440106198501019999",
                "mobile": "13900000099",
                "school_id": old["id"],
                "school_name": old["name"],
                "district": old["district"],
                "status": "active",
                "special_user": False,
            }
        )
        applied = await env.client.post(
            f"/v1/schools/{new['id']}/transfers",
            json={"ce_number": "2026990001", "id_number_tail": "019999"},
            headers=env.school_admin(new),
        )
        approved = await env.client.post(f"/v1/transfers/{applied.json()['id']}/approve", headers=env.district())
        moved = await env.container.teachers.get("2026990001")
    assert approved.status_code == 200, approved.text
    assert moved is not None and moved["school_id"] == new["id"] and moved["version"] == 1


async def test_the_transfer_form_reveals_no_teacher_without_the_name_or_id_tail(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    """Issue 12 item 3: the CE number alone reveals nothing; a wrong name and an unknown number answer
    alike; a failed try leaves no application; the right name or ID tail applies."""
    async with roster_env(settings_env, make_token) as env:
        old, _new, far, teacher = await setup(env)
        ce, tail = teacher["ce_number"], teacher["id_number"][-6:]
        url, admin = f"/v1/schools/{far['id']}/transfers", env.school_admin(far)
        number_only = await env.client.post(url, json={"ce_number": ce}, headers=admin)
        wrong_name = await env.client.post(url, json={"ce_number": ce, "name": "王小二"}, headers=admin)
        wrong_tail = await env.client.post(url, json={"ce_number": ce, "id_number_tail": "000000"}, headers=admin)
        right_name_wrong_tail = await env.client.post(
            url, json={"ce_number": ce, "name": "陈晓明", "id_number_tail": "000000"}, headers=admin
        )
        unknown = await env.client.post(url, json={"ce_number": "2099000001", "name": "王小二"}, headers=admin)
        left_behind = await env.db["transfers"].count_documents({})
        by_tail = await env.client.post(url, json={"ce_number": ce, "id_number_tail": tail.lower()}, headers=admin)
    assert number_only.status_code == 422 and number_only.json()["code"] == "teacher_identity_required"
    misses = [wrong_name, wrong_tail, right_name_wrong_tail, unknown]
    assert {r.status_code for r in misses} == {404}
    assert len({(r.json()["code"], r.json()["title"], r.json()["detail"]) for r in misses}) == 1
    for response in (number_only, *misses):
        assert not {"陈晓明", old["name"], old["id"], "天河区"} & set(str(response.json()).split("'"))
        assert "陈晓明" not in response.text and old["name"] not in response.text
    assert left_behind == 0
    assert by_tail.status_code == 201, by_tail.text


async def test_transfer_lookups_are_rate_limited_per_admin(settings_env: dict[str, Any], make_token: Any) -> None:
    async with roster_env(settings_env, make_token, transfer_rate_per_admin="3/hour") as env:
        _old, new, far, teacher = await setup(env)
        url = f"/v1/schools/{far['id']}/transfers"
        tries = [
            await env.client.post(
                url, json={"ce_number": f"20990000{n:02d}", "name": "王"}, headers=env.school_admin(far)
            )
            for n in range(4)
        ]
        other_admin = await env.client.post(
            f"/v1/schools/{new['id']}/transfers",
            json={"ce_number": teacher["ce_number"], "name": "陈晓明"},
            headers=env.school_admin(new),
        )
    assert [t.status_code for t in tries] == [404, 404, 404, 429]
    assert tries[-1].json()["code"] == "rate_limited" and int(tries[-1].headers["Retry-After"]) > 0
    assert other_admin.status_code == 201  # the limit is the admin's own
