"""Bills follow selections added or deleted after the window closed (DOMAIN §3), through the real
store and broker: the worker reads SelectionMade / SelectionCancelled and each school's bills are made
to show exactly its active selections (amount per the §3 rule, teacher count, lines). A redelivered
event changes nothing; parallel changes and payments lose nothing; what was paid stays paid."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from seeded_documents import NOW, Env, add_school, add_teacher, enrollment_env

from enrollment.domain import billing
from enrollment.domain.selection import Actor
from enrollment.entrypoints.worker import create_worker
from jijiao_kit.auth import Principal
from jijiao_kit.messaging import EventPublisher
from jijiao_stack.pytest_plugin import bearer, eventually, running

TV = "广州市广播电视大学"
CLOSES = NOW + timedelta(days=1)
INSTITUTION = Principal(subject="account:inst-1", roles=frozenset({"institution"}), scopes={"institution_id": "inst-1"})


def course_body(code: str, **fields: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": f"课程{code}",
        "programme": "city",
        "hour_type": "professional",
        "hours": 24,
        "training_fee": 120,
        "material_fee": 30,
        "course_type": "face_to_face",
        "payee": TV,
        "subject": None,
        "stage": None,
        "capacity": None,
        "institution_id": "inst-1",
        **fields,
    }


async def setup_term(env: Env, make_token: Any, teachers: dict[str, list[str]]) -> dict[str, Any]:
    """Term 2602 with three courses; the first teacher of each school selects course 1 in the window;
    the window closes and bills are issued."""
    city = bearer(make_token("city_admin", subject="account:centre"))
    for school_id, ces in teachers.items():
        school = await add_school(env.db, school_id)
        for ce in ces:
            await add_teacher(env.db, ce, school)
    term = {
        "code": "2602",
        "year": 2026,
        "selection_opens_at": (NOW - timedelta(days=1)).isoformat(),
        "selection_closes_at": CLOSES.isoformat(),
        "study_starts_on": (CLOSES + timedelta(days=1)).date().isoformat(),
        "study_ends_on": (CLOSES + timedelta(days=60)).date().isoformat(),
        "payment_due_at": (CLOSES + timedelta(days=10)).isoformat(),
    }
    assert (await env.client.post("/v1/terms", json=term, headers=city)).status_code == 201
    for body in (
        course_body("2602100001"),
        course_body("2602100002", training_fee=80, material_fee=0),
        course_body("2602100003", hour_type="public", training_fee=50, material_fee=20, course_type="remote"),
    ):
        response = await env.client.post("/v1/terms/2602/courses", json=body, headers=city)
        assert response.status_code == 201, response.text
    for ces in teachers.values():
        made = await env.client.post(
            "/v1/terms/2602/selections", json={"ce_number": ces[0], "course_code": "2602100001"}, headers=city
        )
        assert made.status_code == 201, made.text
    env.clock.set(CLOSES + timedelta(minutes=1))
    issued = await env.client.post("/v1/terms/2602/bills/issue", headers=city)
    assert issued.status_code == 200, issued.text
    return {"city": city, "institution": bearer(make_token("institution", institution_id="inst-1"))}


async def late_select(env: Env, token: Any, ce: str, code: str) -> str:
    """A selection placed after the window, the way special-project admissions, school-based bulk
    enrollment and retakes place theirs (the selection service's shared path: capacity, unique active
    key and SelectionMade in one write); the public selection endpoint refuses everyone then."""
    del token
    service = env.container.selection_service
    teacher = await env.container.teachers.get(ce)
    course = await env.container.course_repository.static_by_code("2602", code)
    assert teacher is not None and course is not None
    doc = await service.place(INSTITUTION, "2602", teacher, course, actor=Actor.INSTITUTION, via="special")
    return str(doc["_id"])


async def bill_of(env: Env, school_id: str) -> dict[str, Any] | None:
    return await env.db["bills"].find_one({"_id": billing.bill_id("2602", school_id, TV)})


async def expected(env: Env, school_id: str) -> billing.BillContent:
    selections = [s async for s in env.db["selections"].find({"term": "2602", "school_id": school_id})]
    return billing.bill_content(s for s in selections if s.get("payee") == TV)


async def test_late_additions_and_deletions_change_the_bill_and_a_redelivery_changes_nothing(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with enrollment_env(settings_env) as env:
        tokens = await setup_term(env, make_token, {"s1": ["20260001", "20260002"]})
        first = await bill_of(env, "s1")
        assert first is not None and first["amount_fen"] == 12000 and first["teacher_count"] == 1
        # added after issuing by the course's institution (allowed outside the window), worker stopped:
        # the SelectionMade event waits in the selection's outbox
        added = await late_select(env, tokens["institution"], "20260002", "2602100002")
        stored = await env.db["selections"].find_one({"_id": added}) or {}
        [entry] = stored["outbox"].values()
        envelope = json.loads(entry["body"])
        assert envelope["type"] == "enrollment.selection_made"

        worker = create_worker(env.container)
        async with running(worker):

            async def follows(amount: int, teachers: int) -> dict[str, Any] | None:
                bill = await bill_of(env, "s1")
                ok = bill and bill["amount_fen"] == amount and bill["teacher_count"] == teachers
                return bill if ok else None

            after_add = await eventually(lambda: follows(20000, 2), timeout=20)
            # the exact event again (same event id), twice, as a broker redelivery would bring it
            publisher = EventPublisher(worker.broker, worker.settings.topology)
            for _ in range(2):
                await publisher.publish_raw(
                    "enrollment.selection_made.v1",
                    entry["body"].encode() if isinstance(entry["body"], str) else entry["body"],
                    event_id=envelope["event_id"],
                    correlation_id=None,
                )
            # a later change behind the redeliveries tells that they were consumed
            second = await late_select(env, tokens["institution"], "20260002", "2602100003")
            after_second = await eventually(lambda: follows(25000, 2), timeout=20)
            # a deletion by the institution after the window; then the teacher's last one
            deleted = await env.client.delete(f"/v1/terms/2602/selections/{added}", headers=tokens["institution"])
            assert deleted.status_code == 204, deleted.text
            await eventually(lambda: follows(17000, 2), timeout=20)
            deleted = await env.client.delete(f"/v1/terms/2602/selections/{second}", headers=tokens["institution"])
            assert deleted.status_code == 204, deleted.text
            final = await eventually(lambda: follows(12000, 1), timeout=20)

        marked = await env.db["selections"].find_one({"_id": added}) or {}
        assert await env.container.billing.refresh_school_bills("2602", "s1") == []  # a replay changes nothing
        unchanged = await bill_of(env, "s1") or {}
    assert after_add["selection_ids"] == sorted([*first["selection_ids"], added])
    assert after_add["lines"]["2602100002"] == {
        "course_code": "2602100002",
        "course_name": "课程2602100002",
        "count": 1,
        "amount_fen": 8000,
    }
    assert after_add["version"] == 1 and added in after_add["added"]
    # 2602100003 is a public course: its training fee only (DOMAIN §3); the redeliveries added nothing
    assert after_second["version"] == 2 and after_second["selection_count"] == 3
    assert final["version"] == 4 and final["selection_ids"] == first["selection_ids"]
    assert sorted(final["removed"]) == sorted([added, second]) and "2602100002" not in final["lines"]
    assert final["status"] == "unpaid" and final["bill_number"] == first["bill_number"]
    assert marked["bill_id"] == first["_id"] and marked["status"] == "cancelled"
    assert unchanged["version"] == 4


async def test_a_first_late_selection_of_a_school_issues_its_bill(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with enrollment_env(settings_env) as env:
        tokens = await setup_term(env, make_token, {"s1": ["20260001"], "s2": ["20260003"]})
        await env.db["selections"].delete_many({"school_id": "s2"})  # s2 selected nothing in the window
        await env.db["bills"].delete_many({"school_id": "s2"})
        async with running(create_worker(env.container)):
            selection_id = await late_select(env, tokens["institution"], "20260003", "2602100001")

            async def issued() -> dict[str, Any] | None:
                return await bill_of(env, "s2")

            bill = await eventually(issued, timeout=20)
        listed = await env.client.get("/v1/terms/2602/bills", params={"school_id": "s2"}, headers=tokens["city"])
        outbox = [json.loads(e["body"])["type"] for e in bill.get("outbox", {}).values()]
        selection = await env.db["selections"].find_one({"_id": selection_id}) or {}
    assert bill["amount_fen"] == 12000 and bill["selection_ids"] == [selection_id] and bill["teacher_count"] == 1
    assert listed.json()[0]["amount"] == 120.0 and listed.json()[0]["status"] == "unpaid"
    assert outbox in ([], ["enrollment.bill_issued"])  # the relay may have sent it already
    assert selection["bill_id"] == bill["_id"]


async def test_paid_bills_keep_what_was_paid(settings_env: dict[str, Any], make_token: Any) -> None:
    """An addition to a paid bill leaves the difference outstanding; a deletion (of an unpaid selection:
    paid ones are not deleted, §3) after a part payment keeps the payment and shows the excess as
    overpaid; paying what is outstanding settles the bill and marks its selections paid."""
    async with enrollment_env(settings_env) as env:
        tokens = await setup_term(env, make_token, {"s1": ["20260001", "20260002"]})
        city, institution = tokens["city"], tokens["institution"]
        bill_id = (await bill_of(env, "s1") or {})["_id"]
        original = (await bill_of(env, "s1") or {})["selection_ids"][0]

        async def pay(reference: str, amount: int) -> Any:
            return await env.client.post(
                f"/v1/bills/{bill_id}/payments", json={"reference": reference, "amount": amount}, headers=city
            )

        async def bill_when(check: Any) -> dict[str, Any] | None:
            bill = (await env.client.get(f"/v1/bills/{bill_id}", headers=city)).json()
            return bill if check(bill) else None

        assert (await pay("P1", 120)).json()["bill"]["status"] == "paid"
        async with running(create_worker(env.container)):
            added = await late_select(env, institution, "20260002", "2602100001")
            partially = await eventually(lambda: bill_when(lambda b: b["status"] == "partially_paid"), timeout=20)
            part = await pay("P2", 100)
            deleted = await env.client.delete(f"/v1/terms/2602/selections/{added}", headers=institution)
            assert deleted.status_code == 204, deleted.text
            overpaid = await eventually(lambda: bill_when(lambda b: b["overpaid"] == 100.0), timeout=20)
            refused = await env.client.delete(f"/v1/terms/2602/selections/{original}", headers=institution)
            again = await late_select(env, institution, "20260002", "2602100002")
            short = await eventually(lambda: bill_when(lambda b: b["amount"] == 200.0), timeout=20)
            rest = await pay("P3", 1)  # 200 due, 220 paid: nothing left to pay
            again_paid = bool((await env.db["selections"].find_one({"_id": again}) or {})["paid"])
    assert partially["amount"] == 240.0 and partially["paid"] == 120.0 and partially["outstanding"] == 120.0
    assert partially["teacher_count"] == 2 and partially["overpaid"] == 0.0
    assert part.status_code == 201 and part.json()["bill"]["status"] == "partially_paid"
    assert overpaid["amount"] == 120.0 and overpaid["paid"] == 220.0 and overpaid["outstanding"] == 0.0
    assert overpaid["status"] == "paid" and overpaid["teacher_count"] == 1
    assert refused.status_code == 409 and refused.json()["code"] == "selection_paid"
    # 120 + 80 = 200 due with 220 paid: the new selection is covered by the earlier payment at once
    assert short["status"] == "paid" and short["overpaid"] == 20.0 and short["outstanding"] == 0.0
    assert rest.status_code == 409 and rest.json()["code"] == "bill_already_paid"
    assert again_paid is True


async def test_parallel_late_changes_and_payments_end_exact(settings_env: dict[str, Any], make_token: Any) -> None:
    """60 late selections of two schools at once, deletions and payments racing them, with the worker
    running and the refresh also called concurrently: every bill ends equal to its selections."""
    ces = {"s1": [f"2026{i:04d}" for i in range(1, 21)], "s2": [f"2026{i:04d}" for i in range(21, 41)]}
    async with enrollment_env(settings_env) as env:
        tokens = await setup_term(env, make_token, ces)
        city, institution = tokens["city"], tokens["institution"]
        async with running(create_worker(env.container)):
            rows = [(ce, code) for school in ces.values() for ce in school[1:] for code in ("2602100002",)]
            rows += [(ce, "2602100003") for ce in ces["s1"][:11]]
            ids = await asyncio.gather(*(late_select(env, institution, ce, code) for ce, code in rows))
            bill_id = billing.bill_id("2602", "s1", TV)
            results = await asyncio.gather(
                *(env.client.delete(f"/v1/terms/2602/selections/{i}", headers=institution) for i in ids[:10]),
                *(
                    env.client.post(
                        f"/v1/bills/{bill_id}/payments", json={"reference": f"R{n}", "amount": 1}, headers=city
                    )
                    for n in range(10)
                ),
                *(
                    env.container.billing.refresh_school_bills("2602", school)
                    for school in ("s1", "s2")
                    for _ in range(5)
                ),
            )
            assert all(cast(httpx.Response, r).status_code == 204 for r in results[:10])

            async def settled() -> bool:
                for school in ("s1", "s2"):
                    bill, want = await bill_of(env, school), await expected(env, school)
                    if bill is None or not want.same_as(bill):
                        return False
                return True

            await eventually(settled, timeout=40)
        s1, s2 = await bill_of(env, "s1") or {}, await bill_of(env, "s2") or {}
        want1 = await expected(env, "s1")
        payments_ok = [cast(httpx.Response, r).status_code for r in results[10:20]]
        unbilled = await env.db["selections"].count_documents({"term": "2602", "status": "active", "bill_id": None})
        bills = await env.db["bills"].count_documents({"term": "2602"})
    # s1: 20 teachers x course 1 (120) only for the first; 19 x course 2 (80); 11 x course 3 (50); 10 deleted
    assert s1["teacher_count"] == 20 and s2["teacher_count"] == 20
    assert s1["amount_fen"] == want1.amount_fen and s1["selection_count"] == 1 + 19 + 11 - 10
    assert s2["amount_fen"] == 12000 + 19 * 8000 and s2["selection_count"] == 20
    assert payments_ok.count(201) + payments_ok.count(409) == 10  # a payment racing an amendment may be asked to retry
    assert s1["paid_fen"] == 100 * payments_ok.count(201)
    assert s1["status"] == ("partially_paid" if s1["paid_fen"] else "unpaid")
    assert bills == 2 and s1["version"] >= 1 and s2["version"] >= 1
    assert unbilled == 0
