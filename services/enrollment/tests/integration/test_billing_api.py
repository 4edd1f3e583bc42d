"""Bills, payment notices, payments and payment queries against the real store (DOMAIN §3)."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from jijiao_kit.auth import load_or_create_keypair
from jijiao_kit.stepup import STEP_UP_HEADER, StepUpSigner
from jijiao_stack.pytest_plugin import bearer

sys.path.insert(0, str(Path(__file__).parent))
from seeded_documents import (
    NOW,
    add_course,
    add_school,
    add_selection,
    add_teacher,
    add_term,
    enrollment_env,
    render_pdf,
)

TV = "广州市广播电视大学"


async def seed_term(db: Any) -> dict[str, Any]:
    """Two schools; city remote (120 + 30 material), city public (50 + 20 material), a district course (80 + 10)."""
    await add_term(db, "2602")
    s1 = await add_school(db, "s1", district="天河区", name="天河一小")
    s2 = await add_school(db, "s2", district="海珠区", name="海珠二中")
    remote = await add_course(db, "2602", "2602100001", training_fee_fen=12000, material_fee_fen=3000)
    public = await add_course(
        db, "2602", "2602100002", hour_type="public", training_fee_fen=5000, material_fee_fen=2000
    )
    district = await add_course(
        db,
        "2602",
        "2602200001",
        programme="district",
        payee="天河区教师发展中心",
        training_fee_fen=8000,
        material_fee_fen=1000,
        district="天河区",
    )
    t1 = await add_teacher(db, "20260001", s1)
    t2 = await add_teacher(db, "20260002", s1)
    t3 = await add_teacher(db, "20260003", s2)
    for teacher in (t1, t2, t3):
        await add_selection(db, teacher, remote)
        await add_selection(db, teacher, public)
    await add_selection(db, t1, district)
    await add_selection(db, t2, district, status="cancelled", active_key=None)  # cancelled: not billed
    return {"s1": s1, "s2": s2, "t1": t1, "t2": t2, "t3": t3, "remote": remote, "public": public}


def outbox_types(doc: dict[str, Any]) -> list[str]:
    return sorted(json.loads(entry["body"])["type"] for entry in (doc.get("outbox") or {}).values())


async def test_issue_bills_per_school_and_payee_with_the_city_amount_rule(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with enrollment_env(settings_env) as env:
        await seed_term(env.db)
        city = bearer(make_token("city_admin"))
        response = await env.client.post("/v1/terms/2602/bills/issue", headers=city)
        assert response.status_code == 200, response.text
        issued = {(b["school_id"], b["payee"]): b for b in response.json()["issued"]}
        assert set(issued) == {("s1", TV), ("s2", TV), ("s1", "天河区教师发展中心")}
        # city: the training fees only, remote 120 + public 50 = 170 per teacher (material fees excluded)
        assert issued[("s1", TV)]["amount"] == 340.0
        assert issued[("s2", TV)]["amount"] == 170.0
        assert issued[("s1", "天河区教师发展中心")]["amount"] == 90.0  # district: training + material
        bill = issued[("s1", TV)]
        assert bill["payer"] == "广州市天河一小（公章）" and bill["status"] == "unpaid"
        assert bill["teacher_count"] == 2 and bill["selection_count"] == 4
        assert (
            bill["bill_number"].startswith("2602")
            and datetime.fromisoformat(bill["created_at"]).utcoffset() is not None
        )
        stored = await env.db["bills"].find_one({"_id": bill["id"]}) or {}
        assert outbox_types(stored) == ["enrollment.bill_issued"]
        on_bill = await env.db["selections"].count_documents({"bill_id": bill["id"]})
        assert on_bill == 4

        again = await env.client.post("/v1/terms/2602/bills/issue", headers=city)
        assert again.json()["issued"] == [] and again.json()["already_issued"] == 3
        assert await env.db["bills"].count_documents({}) == 3

        listed = await env.client.get("/v1/terms/2602/bills", params={"school_id": "s1"}, headers=city)
        assert sorted(b["amount"] for b in listed.json()) == [90.0, 340.0]


async def test_bills_wait_for_the_window_to_close_and_only_the_centre_issues_them(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with enrollment_env(settings_env) as env:
        await add_term(env.db, "2602", closes_at=NOW + timedelta(days=1), payment_due_at=NOW + timedelta(days=9))
        response = await env.client.post("/v1/terms/2602/bills/issue", headers=bearer(make_token("city_admin")))
        assert response.status_code == 409 and response.json()["code"] == "window_open"
        school = bearer(make_token("school_admin", school_id="s1"))
        response = await env.client.post("/v1/terms/2602/bills/issue", headers=school)
        assert response.status_code == 403
        missing = await env.client.post("/v1/terms/2699/bills/issue", headers=bearer(make_token("city_admin")))
        assert missing.status_code == 404 and missing.json()["code"] == "term_not_found"


async def test_bill_access_by_scope(settings_env: dict[str, Any], make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        await seed_term(env.db)
        await env.client.post("/v1/terms/2602/bills/issue", headers=bearer(make_token("city_admin")))
        own = await env.client.get("/v1/terms/2602/bills", headers=bearer(make_token("school_admin", school_id="s2")))
        assert [b["school_id"] for b in own.json()] == ["s2"]
        other = await env.client.get(
            "/v1/terms/2602/bills",
            params={"school_id": "s1"},
            headers=bearer(make_token("school_admin", school_id="s2")),
        )
        assert other.status_code == 403 and other.json()["code"] == "school_forbidden"
        district = await env.client.get(
            "/v1/terms/2602/bills", headers=bearer(make_token("district_admin", district="天河区"))
        )
        assert {b["school_id"] for b in district.json()} == {"s1"}
        teacher = await env.client.get(
            "/v1/terms/2602/bills", headers=bearer(make_token("teacher", ce_number="20260001", school_id="s1"))
        )
        assert teacher.status_code == 403
        bill_id = own.json()[0]["id"]
        foreign = await env.client.get(
            f"/v1/bills/{bill_id}", headers=bearer(make_token("school_admin", school_id="s1"))
        )
        assert foreign.status_code == 403


async def _issued_bill(env: Any, make_token: Any, school_id: str = "s1") -> dict[str, Any]:
    await env.client.post("/v1/terms/2602/bills/issue", headers=bearer(make_token("city_admin")))
    bills = (await env.client.get("/v1/terms/2602/bills", headers=bearer(make_token("city_admin")))).json()
    return next(b for b in bills if b["school_id"] == school_id and b["payee"] == TV)


async def test_partial_then_full_payment_marks_the_bills_selections_paid(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with enrollment_env(settings_env) as env:
        await seed_term(env.db)
        bill = await _issued_bill(env, make_token)
        city = bearer(make_token("city_admin"))
        url = f"/v1/bills/{bill['id']}/payments"
        first = await env.client.post(url, json={"reference": "FS-001", "amount": "150.50"}, headers=city)
        assert first.status_code == 201, first.text
        assert first.json()["bill"]["status"] == "partially_paid" and first.json()["bill"]["outstanding"] == 189.5
        assert await env.db["selections"].count_documents({"bill_id": bill["id"], "paid": True}) == 0

        replay = await env.client.post(url, json={"reference": "FS-001", "amount": "150.50"}, headers=city)
        assert replay.status_code == 200 and replay.json()["created"] is False
        assert replay.json()["bill"]["paid"] == 150.5

        conflict = await env.client.post(url, json={"reference": "FS-001", "amount": "10"}, headers=city)
        assert conflict.status_code == 409 and conflict.json()["code"] == "payment_reference_conflict"
        too_much = await env.client.post(url, json={"reference": "FS-002", "amount": "200"}, headers=city)
        assert too_much.status_code == 409 and too_much.json()["code"] == "payment_exceeds_due"
        bad = await env.client.post(url, json={"reference": "FS-003", "amount": "1.005"}, headers=city)
        assert bad.status_code == 422

        rest = await env.client.post(
            url, json={"reference": "FS-002", "amount": 189.5, "paid_at": "2026-11-19T10:00:00+08:00"}, headers=city
        )
        assert rest.status_code == 201 and rest.json()["bill"]["status"] == "paid"
        assert datetime.fromisoformat(rest.json()["payment"]["paid_at"]) == datetime(2026, 11, 19, 2, tzinfo=UTC)
        assert await env.db["selections"].count_documents({"bill_id": bill["id"], "paid": True}) == 4
        stored = await env.db["bills"].find_one({"_id": bill["id"]}) or {}
        assert outbox_types(stored) == [
            "enrollment.bill_issued",
            "enrollment.payment_recorded",
            "enrollment.payment_recorded",
        ]
        paid_in_full = sorted(
            json.loads(e["body"])["payload"]["paid_in_full"]
            for e in stored["outbox"].values()
            if json.loads(e["body"])["type"] == "enrollment.payment_recorded"
        )
        assert paid_in_full == [False, True]

        school = await env.client.post(
            url, json={"reference": "FS-009", "amount": 1}, headers=bearer(make_token("school_admin", school_id="s1"))
        )
        assert school.status_code == 403
        missing = await env.client.post("/v1/bills/nope/payments", json={"reference": "x", "amount": 1}, headers=city)
        assert missing.status_code == 404 and missing.json()["code"] == "bill_not_found"


async def test_same_reference_posted_concurrently_records_once(settings_env: dict[str, Any], make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        await seed_term(env.db)
        bill = await _issued_bill(env, make_token)
        city = bearer(make_token("city_admin"))
        url = f"/v1/bills/{bill['id']}/payments"
        responses = await asyncio.gather(
            *(env.client.post(url, json={"reference": "SAME-REF", "amount": 100}, headers=city) for _ in range(200))
        )
        codes = sorted(r.status_code for r in responses)
        assert codes.count(201) == 1 and codes.count(200) == 199
        stored = await env.db["bills"].find_one({"_id": bill["id"]}) or {}
        assert stored["paid_fen"] == 10000 and len(stored["payments"]) == 1
        assert outbox_types(stored).count("enrollment.payment_recorded") == 1


async def test_distinct_references_concurrently_each_apply_once(settings_env: dict[str, Any], make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        await seed_term(env.db)
        bill = await _issued_bill(env, make_token)  # 340.00 due
        city = bearer(make_token("city_admin"))
        url = f"/v1/bills/{bill['id']}/payments"
        responses = await asyncio.gather(
            *(env.client.post(url, json={"reference": f"R{i}", "amount": 1}, headers=city) for i in range(200))
        )
        assert [r.status_code for r in responses].count(201) == 200
        stored = await env.db["bills"].find_one({"_id": bill["id"]}) or {}
        assert stored["paid_fen"] == 20000 and len(stored["payments"]) == 200 and stored["status"] == "partially_paid"


async def test_concurrent_issuing_creates_each_bill_once(settings_env: dict[str, Any], make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        await add_term(env.db, "2602")
        course = await add_course(env.db, "2602", "2602100001")
        for n in range(40):
            school = await add_school(env.db, f"p{n:02d}")
            teacher = await add_teacher(env.db, f"2026{n:04d}", school)
            await add_selection(env.db, teacher, course)
        city = bearer(make_token("city_admin"))
        first, second, direct = await asyncio.gather(
            env.client.post("/v1/terms/2602/bills/issue", headers=city),
            env.client.post("/v1/terms/2602/bills/issue", headers=city),
            env.container.billing.issue_bills(None, "2602"),
        )
        issued = len(first.json()["issued"]) + len(second.json()["issued"]) + len(direct.issued)
        assert issued == 40
        assert await env.db["bills"].count_documents({}) == 40
        numbers = [b["bill_number"] async for b in env.db["bills"].find({}, {"bill_number": 1})]
        assert len(set(numbers)) == 40
        assert await env.db["selections"].count_documents({"bill_id": {"$gt": ""}}) == 40


async def test_payment_notice_pdf_renders_with_the_seal_name(
    settings_env: dict[str, Any], make_token: Any, tmp_path: Path
) -> None:
    async with enrollment_env(settings_env) as env:
        await seed_term(env.db)
        bill = await _issued_bill(env, make_token)
        response = await env.client.get(
            f"/v1/bills/{bill['id']}/notice.pdf", headers=bearer(make_token("school_admin", school_id="s1"))
        )
        assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
        text, dark = render_pdf(response.content, tmp_path)
        assert "缴款通知书" in text and "广州市天河一小（公章）" in text and TV in text
        assert "叁佰肆拾元整" in text and bill["bill_number"] in text
        assert dark > 500, "the rendered page is blank"
        other = await env.client.get(
            f"/v1/bills/{bill['id']}/notice.pdf", headers=bearer(make_token("school_admin", school_id="s2"))
        )
        assert other.status_code == 403


async def test_admission_query_filters_and_exports_with_step_up(
    settings_env: dict[str, Any], make_token: Any, keys_dir: Path
) -> None:
    async with enrollment_env(settings_env) as env:
        await seed_term(env.db)
        bill = await _issued_bill(env, make_token)
        city_token = make_token("city_admin", subject="account:city1")
        await env.client.post(
            f"/v1/bills/{bill['id']}/payments", json={"reference": "A1", "amount": 340}, headers=bearer(city_token)
        )
        unverified = await env.client.get("/v1/terms/2602/admissions", headers=bearer(city_token))
        assert unverified.status_code == 403 and unverified.json()["code"] == "step_up_required"
        step_up = StepUpSigner(load_or_create_keypair(keys_dir, "stepup").private_pem).sign("account:city1", "export")
        city = {**bearer(city_token), STEP_UP_HEADER: step_up}
        rows = (await env.client.get("/v1/terms/2602/admissions", headers=city)).json()
        assert len(rows) == 7
        public_row = next(r for r in rows if r["course_code"] == "2602100002" and r["ce_number"] == "20260003")
        assert public_row["training_fee"] == 50.0 and public_row["material_fee"] == 20.0 and public_row["total"] == 70.0
        assert public_row["amount_due"] == 50.0 and public_row["paid"] is False
        paid = (await env.client.get("/v1/terms/2602/admissions", params={"paid": "true"}, headers=city)).json()
        assert {r["ce_number"] for r in paid} == {"20260001", "20260002"} and len(paid) == 4
        by_payee = (
            await env.client.get("/v1/terms/2602/admissions", params={"payee": TV, "school_id": "s2"}, headers=city)
        ).json()
        assert len(by_payee) == 2 and all(r["school_name"] == "海珠二中" for r in by_payee)
        school_token = make_token("school_admin", school_id="s2", subject="account:school2")
        school_step_up = StepUpSigner(load_or_create_keypair(keys_dir, "stepup").private_pem).sign(
            "account:school2", "export"
        )
        school_rows = (
            await env.client.get(
                "/v1/terms/2602/admissions", headers={**bearer(school_token), STEP_UP_HEADER: school_step_up}
            )
        ).json()
        assert {r["school_id"] for r in school_rows} == {"s2"}

        denied = await env.client.get("/v1/terms/2602/admissions.xlsx", headers=bearer(city_token))
        assert denied.status_code == 403 and denied.json()["code"] == "step_up_required"
        export = await env.client.get(
            "/v1/terms/2602/admissions.xlsx",
            params={"school_id": "s1"},
            headers={**bearer(city_token), STEP_UP_HEADER: step_up},
        )
        assert export.status_code == 200, export.text
        sheet = load_workbook(io.BytesIO(export.content)).active
        values = list(sheet.values)
        assert list(values[0]) == [
            "期数",
            "行政区划",
            "学校",
            "收费单位",
            "任教科目",
            "学号",
            "姓名",
            "课程编号",
            "课程名称",
            "课程属性",
            "学时",
            "培训费用",
            "教材费用",
            "合计",
            "支付状态",
        ]
        assert len(values) == 1 + 5 and {row[-1] for row in values[1:]} == {"已支付", "未支付"}

        unit = await env.client.get(
            "/v1/terms/2602/unit-payments.xlsx", headers={**bearer(city_token), STEP_UP_HEADER: step_up}
        )
        unit_rows = list(load_workbook(io.BytesIO(unit.content)).active.values)
        assert unit_rows[0][:3] == ("期数", "账单号", "账单名") and len(unit_rows) == 4
        statuses = {row[4]: row[-1] for row in unit_rows[1:] if row[6] == TV}
        assert statuses == {"天河一小": "已缴费", "海珠二中": "未缴费"}


async def test_racing_payments_never_overpay_and_exactly_one_completes_the_bill(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with enrollment_env(settings_env) as env:
        await seed_term(env.db)
        bill = await _issued_bill(env, make_token)  # 340.00 due
        city = bearer(make_token("city_admin"))
        url = f"/v1/bills/{bill['id']}/payments"
        responses = await asyncio.gather(
            *(env.client.post(url, json={"reference": f"X{i}", "amount": 4}, headers=city) for i in range(200))
        )
        codes = [r.status_code for r in responses]
        assert codes.count(201) == 85 and codes.count(409) == 115
        assert {r.json()["code"] for r in responses if r.status_code == 409} <= {
            "payment_exceeds_due",
            "bill_already_paid",
        }
        stored = await env.db["bills"].find_one({"_id": bill["id"]}) or {}
        assert stored["paid_fen"] == 34000 and stored["status"] == "paid" and len(stored["payments"]) == 85
        recorded = [json.loads(e["body"]) for e in stored["outbox"].values()]
        completions = [
            e for e in recorded if e["type"] == "enrollment.payment_recorded" and e["payload"]["paid_in_full"]
        ]
        assert len(completions) == 1
        assert await env.db["selections"].count_documents({"bill_id": bill["id"], "paid": True}) == 4
