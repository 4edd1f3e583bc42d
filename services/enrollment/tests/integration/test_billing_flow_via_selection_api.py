"""Payment and special users on data made by the real selection endpoints (terms, courses, selections), with a
clock moved through the term: window open → closed (bills) → paid by one school → deadline (the
other school's teacher becomes a special user and can no longer select) → cleared → selects again."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from enrollment.entrypoints.worker import create_worker
from jijiao_stack.pytest_plugin import bearer, eventually, running

sys.path.insert(0, str(Path(__file__).parent))
from seeded_documents import NOW, add_school, add_teacher, enrollment_env

TV = "广州市广播电视大学"


def term_body(code: str, opens: Any, closes: Any, due: Any) -> dict[str, Any]:
    return {
        "code": code,
        "year": 2000 + int(code[:2]),
        "selection_opens_at": opens.isoformat(),
        "selection_closes_at": closes.isoformat(),
        "study_starts_on": (closes + timedelta(days=1)).date().isoformat(),
        "study_ends_on": (closes + timedelta(days=60)).date().isoformat(),
        "payment_due_at": due.isoformat(),
    }


def course_body(code: str, **fields: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": f"课程{code}",
        "programme": "city",
        "hour_type": "professional",
        "hours": 24,
        "training_fee": 120,
        "material_fee": 30,
        "course_type": "remote",
        "payee": TV,
        "subject": None,
        "stage": None,
        "capacity": None,
        "institution_id": "inst-1",
        **fields,
    }


async def test_bills_payments_and_special_users_on_selections_made_through_the_api(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with enrollment_env(settings_env) as env:
        s1 = await add_school(env.db, "s1")
        s2 = await add_school(env.db, "s2")
        await add_teacher(env.db, "20260001", s1)
        await add_teacher(env.db, "20260002", s1)
        await add_teacher(env.db, "20260003", s2)
        city = bearer(make_token("city_admin", subject="account:centre"))
        opens, closes, due = NOW - timedelta(days=1), NOW + timedelta(days=1), NOW + timedelta(days=10)
        assert (
            await env.client.post("/v1/terms", json=term_body("2602", opens, closes, due), headers=city)
        ).status_code == 201
        for body in (
            course_body("2602100001"),
            course_body("2602100002", hour_type="public", training_fee=50, material_fee=20),
        ):
            response = await env.client.post("/v1/terms/2602/courses", json=body, headers=city)
            assert response.status_code == 201, response.text
        made_ids: dict[str, list[str]] = {}
        for ce in ("20260001", "20260002", "20260003"):
            for code in ("2602100001", "2602100002"):
                made = await env.client.post(
                    "/v1/terms/2602/selections", json={"ce_number": ce, "course_code": code}, headers=city
                )
                assert made.status_code == 201, made.text
                made_ids.setdefault(ce, []).append(made.json()["id"])

        early = await env.client.post("/v1/terms/2602/bills/issue", headers=city)
        assert early.status_code == 409 and early.json()["code"] == "window_open"

        env.clock.set(closes + timedelta(minutes=1))
        issued = await env.client.post("/v1/terms/2602/bills/issue", headers=city)
        assert issued.status_code == 200, issued.text
        bills = {b["school_id"]: b for b in issued.json()["issued"]}
        # per teacher: the training fees only, remote 120 + public 50 = 170 (no material fee is billed)
        assert bills["s1"]["amount"] == 340.0 and bills["s2"]["amount"] == 170.0

        paid = await env.client.post(
            f"/v1/bills/{bills['s1']['id']}/payments", json={"reference": "FS-1", "amount": 340}, headers=city
        )
        assert paid.status_code == 201 and paid.json()["bill"]["status"] == "paid"
        for ce, ids in made_ids.items():  # the selection view shows the payment state
            for selection_id in ids:
                view = await env.client.get(f"/v1/terms/2602/selections/{selection_id}", headers=city)
                assert view.status_code == 200 and view.json()["paid"] is (ce != "20260003")

        env.clock.set(due + timedelta(minutes=1))
        flagged = await env.client.post("/v1/terms/2602/special-users/flag", headers=city)
        assert flagged.json()["flagged"] == ["20260003"]

        # the special user may not select in the next term (the selection rule)
        next_term = term_body(
            "2701",
            env.clock.now() - timedelta(hours=1),
            env.clock.now() + timedelta(days=5),
            env.clock.now() + timedelta(days=9),
        )
        assert (await env.client.post("/v1/terms", json=next_term, headers=city)).status_code == 201
        assert (
            await env.client.post("/v1/terms/2701/courses", json=course_body("2701100001"), headers=city)
        ).status_code == 201
        refused = await env.client.post(
            "/v1/terms/2701/selections", json={"ce_number": "20260003", "course_code": "2701100001"}, headers=city
        )
        assert refused.status_code == 403 and refused.json()["code"] == "special_user"

        cleared = await env.client.post(
            "/v1/special-users/20260003/clearance",
            data={"method": "in_person", "identity_checked": "true"},
            headers=city,
        )
        assert cleared.status_code == 200 and cleared.json()["special_user"] is False
        again = await env.client.post(
            "/v1/terms/2701/selections", json={"ce_number": "20260003", "course_code": "2701100001"}, headers=city
        )
        assert again.status_code == 201, again.text


async def test_a_selection_deleted_after_billing_leaves_the_bill(settings_env: dict[str, Any], make_token: Any) -> None:
    """The institution deletes a billed selection after the window (the selection rule); the worker consumes
    SelectionCancelled and the unpaid bill no longer asks for it; what was paid then covers the bill."""
    async with enrollment_env(settings_env) as env:
        s1 = await add_school(env.db, "s1")
        await add_teacher(env.db, "20260001", s1)
        await add_teacher(env.db, "20260002", s1)
        city = bearer(make_token("city_admin"))
        opens, closes, due = NOW - timedelta(days=1), NOW + timedelta(days=1), NOW + timedelta(days=10)
        assert (
            await env.client.post("/v1/terms", json=term_body("2602", opens, closes, due), headers=city)
        ).status_code == 201
        assert (
            await env.client.post("/v1/terms/2602/courses", json=course_body("2602100001"), headers=city)
        ).status_code == 201
        ids = []
        for ce in ("20260001", "20260002"):
            made = await env.client.post(
                "/v1/terms/2602/selections", json={"ce_number": ce, "course_code": "2602100001"}, headers=city
            )
            ids.append(made.json()["id"])
        env.clock.set(closes + timedelta(minutes=1))
        [bill] = (await env.client.post("/v1/terms/2602/bills/issue", headers=city)).json()["issued"]
        assert bill["amount"] == 240.0
        partial = await env.client.post(
            f"/v1/bills/{bill['id']}/payments", json={"reference": "P1", "amount": 120}, headers=city
        )
        assert partial.json()["bill"]["status"] == "partially_paid"

        async with running(create_worker(env.container)):
            institution = bearer(make_token("institution", institution_id="inst-1"))
            deleted = await env.client.delete(f"/v1/terms/2602/selections/{ids[1]}", headers=institution)
            assert deleted.status_code == 204, deleted.text

            async def settled() -> dict[str, Any] | None:
                current = (await env.client.get(f"/v1/bills/{bill['id']}", headers=city)).json()
                return current if current["status"] == "paid" else None

            current = await eventually(settled, timeout=20)
        assert current["amount"] == 120.0 and current["paid"] == 120.0 and current["selection_count"] == 1
        kept = await env.client.get(f"/v1/terms/2602/selections/{ids[0]}", headers=city)
        assert kept.json()["paid"] is True
        stored = await env.db["bills"].find_one({"_id": bill["id"]}) or {}
        assert list(stored["removed"]) == [ids[1]]
        # a repeated delivery changes nothing
        assert await env.container.billing.selection_cancelled(ids[1]) is False
        assert (await env.db["bills"].find_one({"_id": bill["id"]}) or {})["amount_fen"] == 12000
