"""Flagging special users at the payment deadline (admin endpoint and the worker's job) and clearing
them, against the real store."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from pypdf import PdfWriter

from enrollment.entrypoints.worker import create_worker
from jijiao_stack.pytest_plugin import bearer, eventually, running

sys.path.insert(0, str(Path(__file__).parent))
from seeded_documents import NOW, add_course, add_school, add_selection, add_teacher, add_term, enrollment_env


def _pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


PDF = _pdf()  # a real PDF: proofs are checked by their whole structure


def events_of(doc: dict[str, Any], event_type: str) -> list[dict[str, Any]]:
    bodies = [json.loads(entry["body"]) for entry in (doc.get("outbox") or {}).values()]
    return [body for body in bodies if body["type"] == event_type]


async def seed(db: Any, *, due_in: timedelta = timedelta(days=-1)) -> dict[int, dict[str, Any]]:
    await add_term(db, "2602", payment_due_at=NOW + due_in)
    s1 = await add_school(db, "s1")
    s2 = await add_school(db, "s2")
    city = await add_course(db, "2602", "2602100001")
    city2 = await add_course(db, "2602", "2602100002")
    district = await add_course(db, "2602", "2602200001", programme="district", payee="区中心")
    t = {n: await add_teacher(db, f"2026000{n}", s1 if n < 6 else s2) for n in range(1, 8)}
    await add_selection(db, t[1], city)
    await add_selection(db, t[1], city2)
    await add_selection(db, t[2], city, paid=True)
    await add_selection(db, t[3], city, bill_id="bpaid")  # its bill is paid; the selection not marked yet
    await db["bills"].insert_one({"_id": "bpaid", "term": "2602", "status": "paid"})
    await add_selection(db, t[4], city, status="cancelled", active_key=None)
    await add_selection(db, t[5], district)
    await add_selection(db, t[6], city)
    return t


async def test_flagging_marks_unpaid_teachers_once_per_term(settings_env: dict[str, Any], make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        await seed(env.db)
        city = bearer(make_token("city_admin"))
        response = await env.client.post("/v1/terms/2602/special-users/flag", headers=city)
        assert response.status_code == 200, response.text
        assert response.json() == {"term": "2602", "flagged": ["20260001", "20260006"], "term_already_flagged": False}
        t1 = await env.db["teachers"].find_one({"_id": "20260001"}) or {}
        assert t1["special_user"] and t1["special_user_times"] == 1
        [event] = events_of(t1, "enrollment.special_user_flagged")
        assert (
            event["payload"]["course_codes"] == ["2602100001", "2602100002"] and event["payload"]["times_flagged"] == 1
        )
        for ce in ("20260002", "20260003", "20260004", "20260005", "20260007"):
            assert not (await env.db["teachers"].find_one({"_id": ce}) or {})["special_user"]

        again = await env.client.post("/v1/terms/2602/special-users/flag", headers=city)
        assert again.json() == {"term": "2602", "flagged": [], "term_already_flagged": True}
        t1 = await env.db["teachers"].find_one({"_id": "20260001"}) or {}
        assert t1["special_user_times"] == 1 and len(events_of(t1, "enrollment.special_user_flagged")) == 1

        listed = await env.client.get("/v1/special-users", headers=bearer(make_token("school_admin", school_id="s2")))
        assert [u["ce_number"] for u in listed.json()] == ["20260006"]
        assert listed.json()[0]["flags"][0]["term"] == "2602"
        denied = await env.client.post(
            "/v1/terms/2602/special-users/flag", headers=bearer(make_token("school_admin", school_id="s1"))
        )
        assert denied.status_code == 403


async def test_flagging_waits_for_the_deadline(settings_env: dict[str, Any], make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        await seed(env.db, due_in=timedelta(hours=2))
        response = await env.client.post("/v1/terms/2602/special-users/flag", headers=bearer(make_token("city_admin")))
        assert response.status_code == 409 and response.json()["code"] == "payment_not_due"


async def test_concurrent_flag_runs_flag_each_teacher_once(settings_env: dict[str, Any], make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        await seed(env.db)
        city = bearer(make_token("city_admin"))
        await asyncio.gather(
            *(env.client.post("/v1/terms/2602/special-users/flag", headers=city) for _ in range(5)),
            *(env.container.special_users.flag_term(None, "2602") for _ in range(5)),
        )
        for ce in ("20260001", "20260006"):
            teacher = await env.db["teachers"].find_one({"_id": ce}) or {}
            assert teacher["special_user_times"] == 1
            assert len(events_of(teacher, "enrollment.special_user_flagged")) == 1


async def test_the_worker_flags_on_schedule(settings_env: dict[str, Any]) -> None:
    async with enrollment_env(settings_env) as env:
        await seed(env.db)
        async with running(create_worker(env.container)):

            async def flagged() -> bool:
                term = await env.db["terms"].find_one({"_id": "2602"}) or {}
                return bool(term.get("special_users_flagged_at") and term.get("bills_issued_at"))

            await eventually(flagged, timeout=20)
        t1 = await env.db["teachers"].find_one({"_id": "20260001"}) or {}
        assert t1["special_user"] and t1["special_user_times"] == 1
        assert (
            await env.db["bills"].count_documents({"term": "2602", "bill_number": {"$gt": ""}}) == 3
        )  # billing job ran too


async def test_clearing_first_and_second_time(settings_env: dict[str, Any], make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        await seed(env.db)
        city = bearer(make_token("city_admin", subject="account:centre"))
        await env.client.post("/v1/terms/2602/special-users/flag", headers=city)
        url = "/v1/special-users/20260001/clearance"
        no_id = await env.client.post(url, data={"method": "in_person", "identity_checked": "false"}, headers=city)
        assert no_id.status_code == 422 and no_id.json()["code"] == "identity_proof_required"
        school = await env.client.post(
            url,
            data={"method": "in_person", "identity_checked": "true"},
            headers=bearer(make_token("school_admin", school_id="s1")),
        )
        assert school.status_code == 403
        first = await env.client.post(url, data={"method": "email", "identity_checked": "true"}, headers=city)
        assert first.status_code == 200, first.text
        assert first.json()["special_user"] is False and first.json()["special_user_times"] == 1
        t1 = await env.db["teachers"].find_one({"_id": "20260001"}) or {}
        [cleared] = events_of(t1, "enrollment.special_user_cleared")
        assert cleared["payload"]["cleared_by"] == "account:centre"
        twice = await env.client.post(url, data={"method": "email", "identity_checked": "true"}, headers=city)
        assert twice.status_code == 409 and twice.json()["code"] == "not_special_user"

        # flagged again in a later term: the second time needs the school-sealed proof
        await add_term(env.db, "2701", year=2027, payment_due_at=NOW - timedelta(hours=1))
        course = await add_course(env.db, "2701", "2701100001")
        await add_selection(env.db, t1, course)
        await env.client.post("/v1/terms/2701/special-users/flag", headers=city)
        t1 = await env.db["teachers"].find_one({"_id": "20260001"}) or {}
        assert t1["special_user"] and t1["special_user_times"] == 2
        without = await env.client.post(url, data={"method": "in_person", "identity_checked": "true"}, headers=city)
        assert without.status_code == 422 and without.json()["code"] == "school_proof_required"
        wrong_type = await env.client.post(
            url,
            data={"method": "in_person", "identity_checked": "true"},
            files={"proof": ("proof.txt", b"hello", "text/plain")},
            headers=city,
        )
        assert wrong_type.status_code == 422 and wrong_type.json()["code"] == "invalid_proof_file"
        fake_pdf = await env.client.post(
            url,
            data={"method": "in_person", "identity_checked": "true"},
            files={"proof": ("证明.pdf", b"%PDF-1.4\n<html><script>alert(1)</script></html>", "application/pdf")},
            headers=city,
        )
        assert fake_pdf.status_code == 422 and fake_pdf.json()["code"] == "invalid_proof_file"
        with_proof = await env.client.post(
            url,
            data={"method": "in_person", "identity_checked": "true", "reason": "新学期无法选课"},
            files={"proof": ("证明.pdf", PDF, "application/pdf")},
            headers=city,
        )
        assert with_proof.status_code == 200 and with_proof.json()["special_user"] is False
        t1 = await env.db["teachers"].find_one({"_id": "20260001"}) or {}
        clearances = sorted(t1["special_clearances"].values(), key=lambda c: c["round"])
        assert [c["round"] for c in clearances] == ["first", "second"] and clearances[0]["proof_id"] is None
        proof = await env.db["special_user_proofs"].find_one({"_id": clearances[1]["proof_id"]}) or {}
        assert proof["data"] == PDF and proof["filename"] == "证明.pdf" and proof["ce_numbers"] == ["20260001"]


async def test_collective_clearing_for_a_school(settings_env: dict[str, Any], make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        await seed(env.db)
        city = bearer(make_token("city_admin"))
        await env.client.post("/v1/terms/2602/special-users/flag", headers=city)
        url = "/v1/schools/s1/special-users/clearance"
        form = {"method": "in_person", "identity_checked": "true", "ce_numbers": ["20260001", "20260002", "20260006"]}
        missing_proof = await env.client.post(url, data=form, headers=city)
        assert missing_proof.status_code == 422
        response = await env.client.post(
            url, data=form, files={"proof": ("申请.pdf", PDF, "application/pdf")}, headers=city
        )
        assert response.status_code == 200, response.text
        assert [(r["ce_number"], r["cleared"], r["code"]) for r in response.json()] == [
            ("20260001", True, None),
            ("20260002", False, "not_special_user"),
            ("20260006", False, "teacher_not_in_school"),
        ]
        assert not (await env.db["teachers"].find_one({"_id": "20260001"}) or {})["special_user"]
        assert (await env.db["teachers"].find_one({"_id": "20260006"}) or {})["special_user"]


async def test_flagging_touches_only_the_defaulter_when_teachers_have_no_flag_count(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    """Issue 12 item 1: teachers created by the roster have no ``special_user_times``; the job must flag
    the defaulter, not the payer, the canceller, or the first teacher in CE order without a count."""
    async with enrollment_env(settings_env) as env:
        await add_term(env.db, "2602", payment_due_at=NOW - timedelta(days=1))
        school = await add_school(env.db, "s1")
        course = await add_course(env.db, "2602", "2602100001")
        teachers = {n: await add_teacher(env.db, f"2026000{n}", school) for n in range(1, 6)}
        await env.db["teachers"].update_many({}, {"$unset": {"special_user_times": ""}})  # as the roster writes them
        await add_selection(env.db, teachers[2], course, paid=True)  # the payer
        await add_selection(env.db, teachers[3], course, status="cancelled", active_key=None)  # the canceller
        await add_selection(env.db, teachers[4], course)  # the defaulter
        before = {doc["_id"]: doc async for doc in env.db["teachers"].find({})}

        response = await env.client.post("/v1/terms/2602/special-users/flag", headers=bearer(make_token("city_admin")))
        assert response.status_code == 200, response.text
        assert response.json()["flagged"] == ["20260004"]
        after = {doc["_id"]: doc async for doc in env.db["teachers"].find({})}
        assert after["20260004"]["special_user"] and after["20260004"]["special_user_times"] == 1
        assert len(events_of(after["20260004"], "enrollment.special_user_flagged")) == 1
        assert {ce: doc for ce, doc in after.items() if ce != "20260004"} == {
            ce: doc for ce, doc in before.items() if ce != "20260004"
        }
