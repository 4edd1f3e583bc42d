"""Registering results (→ ResultRegistered for the hours bank), learning progress, certificates and
per-course pass rates, against the real store and broker."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from enrollment.entrypoints.worker import create_worker
from jijiao_contracts import Envelope
from jijiao_stack.pytest_plugin import bearer, eventually, running

sys.path.insert(0, str(Path(__file__).parent))
from seeded_documents import add_course, add_school, add_selection, add_teacher, add_term, enrollment_env, render_pdf


def events_of(doc: dict[str, Any], event_type: str) -> list[dict[str, Any]]:
    bodies = [json.loads(entry["body"]) for entry in (doc.get("outbox") or {}).values()]
    return [body for body in bodies if body["type"] == event_type]


async def seed(db: Any) -> dict[str, Any]:
    await add_term(db, "2602", year=2026)
    await add_term(db, "2502", year=2025)
    school = await add_school(db, "s1")
    other = await add_school(db, "s2", district="海珠区")
    city = await add_course(db, "2602", "2602100001", hour_type="professional", hours=24, institution_id="inst-1")
    school_course = await add_course(
        db,
        "2602",
        "2602900001",
        programme="school",
        hour_type="elective",
        hours=6,
        institution_id=None,
        school_id="s1",
        training_fee_fen=0,
    )
    old_school_course = await add_course(
        db,
        "2502",
        "2502900001",
        programme="school",
        hour_type="elective",
        hours=6,
        institution_id=None,
        school_id="s1",
        training_fee_fen=0,
    )
    t1 = await add_teacher(db, "20260001", school, name="张三")
    t2 = await add_teacher(db, "20260002", other)
    return {
        "t1": t1,
        "t2": t2,
        "city": city,
        "school_course": school_course,
        "sel_city": await add_selection(db, t1, city, paid=True),
        "sel_city2": await add_selection(db, t2, city, paid=True),
        "sel_school": await add_selection(db, t1, school_course),
        "sel_old": await add_selection(db, t1, old_school_course),
    }


async def test_institution_registers_a_passed_result_once_and_updates_it(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with enrollment_env(settings_env) as env:
        data = await seed(env.db)
        inst = bearer(make_token("institution", institution_id="inst-1", subject="account:inst1"))
        body = {"ce_number": "20260001", "course_code": "2602100001", "passed": True}
        first = await env.client.post("/v1/terms/2602/results", json=body, headers=inst)
        assert first.status_code == 201, first.text
        assert first.json()["result_id"] == data["sel_city"]["_id"] and first.json()["result"] == "passed"
        assert datetime.fromisoformat(first.json()["registered_at"]).utcoffset() is not None
        again = await env.client.post("/v1/terms/2602/results", json=body, headers=inst)
        assert again.status_code == 200 and again.json()["changed"] is False

        stored = await env.db["selections"].find_one({"_id": data["sel_city"]["_id"]}) or {}
        [event] = events_of(stored, "enrollment.result_registered")
        payload = event["payload"]
        assert payload == {
            **payload,
            "result_id": data["sel_city"]["_id"],
            "term": "2602",
            "year": 2026,
            "ce_number": "20260001",
            "school_id": "s1",
            "course_code": "2602100001",
            "programme": "city",
            "passed": True,
            "category": "professional",
            "hours": 24.0,
            "source": "platform_course",
            "registered_by": "account:inst1",
            "revision": 1,
        }

        failed = await env.client.post("/v1/terms/2602/results", json={**body, "passed": False}, headers=inst)
        assert failed.status_code == 201 and failed.json()["result"] == "failed"
        stored = await env.db["selections"].find_one({"_id": data["sel_city"]["_id"]}) or {}
        updates = events_of(stored, "enrollment.result_registered")
        assert len(updates) == 2 and {e["payload"]["result_id"] for e in updates} == {data["sel_city"]["_id"]}
        # the correction is newer than the first registration, so the hours bank can order them
        assert sorted((e["payload"]["revision"], e["payload"]["passed"]) for e in updates) == [(1, True), (2, False)]

        other_inst = bearer(make_token("institution", institution_id="inst-9"))
        refused = await env.client.post("/v1/terms/2602/results", json=body, headers=other_inst)
        assert refused.status_code == 403 and refused.json()["code"] == "not_course_institution"
        missing = await env.client.post("/v1/terms/2602/results", json={**body, "ce_number": "20269999"}, headers=inst)
        assert missing.status_code == 404 and missing.json()["code"] == "selection_not_found"
        no_course = await env.client.post("/v1/terms/2602/results", json={**body, "course_code": "x"}, headers=inst)
        assert no_course.status_code == 404 and no_course.json()["code"] == "course_not_found"
        bad = await env.client.post("/v1/terms/2602/results", json={"ce_number": "1"}, headers=inst)
        assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")


async def test_school_admin_registers_school_based_results_of_the_current_year_only(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with enrollment_env(settings_env) as env:
        data = await seed(env.db)
        school = bearer(make_token("school_admin", school_id="s1", district="天河区"))
        ok = await env.client.post(
            "/v1/terms/2602/results",
            json={"ce_number": "20260001", "course_code": "2602900001", "passed": True},
            headers=school,
        )
        assert ok.status_code == 201, ok.text
        stored = await env.db["selections"].find_one({"_id": data["sel_school"]["_id"]}) or {}
        [event] = events_of(stored, "enrollment.result_registered")
        assert event["payload"]["source"] == "school_based" and event["payload"]["category"] == "elective"
        principal = bearer(make_token("principal", school_id="s1", district="天河区"))  # the school platform too
        corrected = await env.client.post(
            "/v1/terms/2602/results",
            json={"ce_number": "20260001", "course_code": "2602900001", "passed": False},
            headers=principal,
        )
        assert corrected.status_code == 201, corrected.text

        old = await env.client.post(
            "/v1/terms/2502/results",
            json={"ce_number": "20260001", "course_code": "2502900001", "passed": True},
            headers=school,
        )
        assert old.status_code == 409 and old.json()["code"] == "result_year_closed"
        platform = await env.client.post(
            "/v1/terms/2602/results",
            json={"ce_number": "20260001", "course_code": "2602100001", "passed": True},
            headers=school,
        )
        assert platform.status_code == 403 and platform.json()["code"] == "not_school_course"
        other_school = bearer(make_token("school_admin", school_id="s2"))
        refused = await env.client.post(
            "/v1/terms/2602/results",
            json={"ce_number": "20260001", "course_code": "2602900001", "passed": True},
            headers=other_school,
        )
        assert refused.status_code == 403
        teacher = bearer(make_token("teacher", ce_number="20260001", school_id="s1"))
        own = await env.client.post(
            "/v1/terms/2602/results",
            json={"ce_number": "20260001", "course_code": "2602900001", "passed": True},
            headers=teacher,
        )
        assert own.status_code == 403 and own.json()["code"] == "results_forbidden"
        city = bearer(make_token("city_admin"))
        by_city = await env.client.post(
            "/v1/terms/2502/results",
            json={"ce_number": "20260001", "course_code": "2502900001", "passed": True},
            headers=city,
        )
        assert by_city.status_code == 201


async def test_concurrent_registrations_of_one_selection_apply_one_change(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with enrollment_env(settings_env) as env:
        data = await seed(env.db)
        inst = bearer(make_token("institution", institution_id="inst-1"))
        body = {"ce_number": "20260001", "course_code": "2602100001", "passed": True}
        responses = await asyncio.gather(
            *(env.client.post("/v1/terms/2602/results", json=body, headers=inst) for _ in range(200))
        )
        codes = [r.status_code for r in responses]
        assert codes.count(201) == 1 and codes.count(200) == 199
        stored = await env.db["selections"].find_one({"_id": data["sel_city"]["_id"]}) or {}
        assert len(events_of(stored, "enrollment.result_registered")) == 1 and stored["result_seq"] == 1


async def test_learning_started_is_recorded_once_per_selection(settings_env: dict[str, Any], make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        data = await seed(env.db)
        city = bearer(make_token("city_admin"))
        records = [
            {"ce_number": "20260001", "course_code": "2602100001"},
            {"ce_number": "20260001", "course_code": "2602100001"},
            {"ce_number": "20269999", "course_code": "2602100001"},
        ]
        response = await env.client.post("/v1/terms/2602/learning-started", json={"records": records}, headers=city)
        assert [row["outcome"] for row in response.json()] == ["started", "already", "missing"]
        stored = await env.db["selections"].find_one({"_id": data["sel_city"]["_id"]}) or {}
        assert stored["learning_started"] and len(events_of(stored, "enrollment.learning_started")) == 1
        school = bearer(make_token("school_admin", school_id="s1"))
        denied = await env.client.post("/v1/terms/2602/learning-started", json={"records": records}, headers=school)
        assert denied.status_code == 403


async def test_certificate_pdf_for_a_passed_course_only(
    settings_env: dict[str, Any], make_token: Any, tmp_path: Path
) -> None:
    async with enrollment_env(settings_env) as env:
        data = await seed(env.db)
        inst = bearer(make_token("institution", institution_id="inst-1"))
        await env.client.post(
            "/v1/terms/2602/results",
            json={"ce_number": "20260001", "course_code": "2602100001", "passed": True},
            headers=inst,
        )
        await env.client.post(
            "/v1/terms/2602/results",
            json={"ce_number": "20260002", "course_code": "2602100001", "passed": False},
            headers=inst,
        )
        teacher = bearer(make_token("teacher", ce_number="20260001", school_id="s1"))
        results = (await env.client.get("/v1/teachers/20260001/results", headers=teacher)).json()
        assert {r["course_code"]: r["result"] for r in results} == {
            "2602100001": "passed",
            "2602900001": None,
            "2502900001": None,
        }
        response = await env.client.get(f"/v1/selections/{data['sel_city']['_id']}/certificate.pdf", headers=teacher)
        assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
        text, dark = render_pdf(response.content, tmp_path)
        assert "继续教育学习证明" in text and "张三" in text and "2602100001" in text and "专业科目" in text
        assert dark > 500
        not_passed = await env.client.get(
            f"/v1/selections/{data['sel_city2']['_id']}/certificate.pdf",
            headers=bearer(make_token("teacher", ce_number="20260002", school_id="s2")),
        )
        assert not_passed.status_code == 409 and not_passed.json()["code"] == "result_not_passed"
        someone_else = await env.client.get(
            f"/v1/selections/{data['sel_city']['_id']}/certificate.pdf",
            headers=bearer(make_token("teacher", ce_number="20260002", school_id="s2")),
        )
        assert someone_else.status_code == 404
        foreign = await env.client.get(
            "/v1/teachers/20260001/results", headers=bearer(make_token("school_admin", school_id="s2"))
        )
        assert foreign.status_code == 404


async def test_course_pass_statistics(settings_env: dict[str, Any], make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        await seed(env.db)
        await add_course(env.db, "2602", "2602100009")  # nobody selected it
        inst = bearer(make_token("institution", institution_id="inst-1"))
        await env.client.post(
            "/v1/terms/2602/results",
            json={"ce_number": "20260001", "course_code": "2602100001", "passed": True},
            headers=inst,
        )
        city = (
            await env.client.get("/v1/terms/2602/statistics/courses", headers=bearer(make_token("city_admin")))
        ).json()
        by_code = {row["course_code"]: row for row in city}
        assert by_code["2602100001"] == {
            **by_code["2602100001"],
            "passed": 1,
            "not_passed": 1,
            "total": 2,
            "pass_rate": 0.5,
        }
        assert by_code["2602100009"]["total"] == 0 and by_code["2602100009"]["pass_rate"] is None
        school = (
            await env.client.get(
                "/v1/terms/2602/statistics/courses", headers=bearer(make_token("school_admin", school_id="s2"))
            )
        ).json()
        assert [(r["course_code"], r["total"], r["passed"]) for r in school] == [("2602100001", 1, 0)]
        mine = (await env.client.get("/v1/terms/2602/statistics/courses", headers=inst)).json()
        assert {r["course_code"] for r in mine} == {"2602100001", "2602100009"}


async def test_result_registered_is_published_to_the_broker(settings_env: dict[str, Any], make_token: Any) -> None:
    """The worker's relay publishes the outbox entry; a probe queue bound to the key receives it."""
    import aio_pika

    from jijiao_contracts import Topology

    async with enrollment_env(settings_env) as env:
        data = await seed(env.db)
        topology = Topology(prefix=settings_env["name_prefix"])
        worker = create_worker(env.container)
        async with running(worker):
            connection = await aio_pika.connect(settings_env["rabbitmq_url"])
            async with connection:
                channel = await connection.channel()
                exchange = await channel.get_exchange(topology.events_exchange)
                queue = await channel.declare_queue("", exclusive=True)
                await queue.bind(exchange, routing_key="enrollment.result_registered.v1")
                inst = bearer(make_token("institution", institution_id="inst-1"))
                await env.client.post(
                    "/v1/terms/2602/results",
                    json={"ce_number": "20260001", "course_code": "2602100001", "passed": True},
                    headers=inst,
                )
                received: list[Envelope] = []

                async def got() -> bool:
                    message = await queue.get(fail=False, timeout=1)
                    if message is not None:
                        await message.ack()
                        received.append(Envelope.model_validate_json(message.body))
                    return bool(received)

                await eventually(got, timeout=15)
                assert received[0].payload["result_id"] == data["sel_city"]["_id"]
                assert received[0].occurred_at.tzinfo is not None and received[0].occurred_at <= datetime.now(UTC)


async def test_batch_registration_reports_each_row(settings_env: dict[str, Any], make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        await seed(env.db)
        inst = bearer(make_token("institution", institution_id="inst-1"))
        rows = [
            {"ce_number": "20260001", "course_code": "2602100001", "passed": True},
            {"ce_number": "20260002", "course_code": "2602100001", "passed": False},
            {"ce_number": "20260001", "course_code": "2602100001", "passed": True},
            {"ce_number": "20269999", "course_code": "2602100001", "passed": True},
            {"ce_number": "20260001", "course_code": "2602900001", "passed": True},
        ]
        response = await env.client.post("/v1/terms/2602/results/batch", json={"results": rows}, headers=inst)
        assert response.status_code == 200, response.text
        assert [(r["outcome"], r["code"]) for r in response.json()] == [
            ("registered", None),
            ("registered", None),
            ("unchanged", None),
            (None, "selection_not_found"),
            (None, "not_course_institution"),
        ]
        failed = await env.db["selections"].find_one({"active_key": "2602:20260002:2602100001"}) or {}
        assert (
            failed["result"] == "failed"
            and events_of(failed, "enrollment.result_registered")[0]["payload"]["passed"] is False
        )


async def test_term_results_query_by_scope_with_step_up(
    settings_env: dict[str, Any], make_token: Any, keys_dir: Path
) -> None:
    from jijiao_kit.auth import load_or_create_keypair
    from jijiao_kit.stepup import STEP_UP_HEADER, StepUpSigner

    async with enrollment_env(settings_env) as env:
        await seed(env.db)
        inst = bearer(make_token("institution", institution_id="inst-1"))
        await env.client.post(
            "/v1/terms/2602/results",
            json={"ce_number": "20260001", "course_code": "2602100001", "passed": True},
            headers=inst,
        )
        signer = StepUpSigner(load_or_create_keypair(keys_dir, "stepup").private_pem)

        def verified(role: str, subject: str, **scopes: str) -> dict[str, str]:
            return {
                **bearer(make_token(role, subject=subject, **scopes)),
                STEP_UP_HEADER: signer.sign(subject, "export"),
            }

        unverified = await env.client.get("/v1/terms/2602/results", headers=bearer(make_token("city_admin")))
        assert unverified.status_code == 403 and unverified.json()["code"] == "step_up_required"
        city = (await env.client.get("/v1/terms/2602/results", headers=verified("city_admin", "a:c"))).json()
        assert {(r["ce_number"], r["course_code"], r["result"]) for r in city} == {
            ("20260001", "2602100001", "passed"),
            ("20260002", "2602100001", None),
            ("20260001", "2602900001", None),
        }
        passed = await env.client.get(
            "/v1/terms/2602/results", params={"result": "passed"}, headers=verified("city_admin", "a:c")
        )
        assert [r["ce_number"] for r in passed.json()] == ["20260001"]
        school = await env.client.get(
            "/v1/terms/2602/results", headers=verified("school_admin", "a:s2", school_id="s2")
        )
        assert [r["ce_number"] for r in school.json()] == ["20260002"]
        institution = await env.client.get(
            "/v1/terms/2602/results", headers=verified("institution", "a:i", institution_id="inst-1")
        )
        assert {r["course_code"] for r in institution.json()} == {"2602100001"}
        earlier = await env.client.get(
            "/v1/terms/2502/results", headers=verified("school_admin", "a:s1", school_id="s1")
        )
        assert earlier.status_code == 200 and [r["course_code"] for r in earlier.json()] == ["2502900001"]


async def test_a_selection_with_a_passed_result_is_not_deleted_until_the_result_is_corrected(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    """Its hours are in the hours bank: deleting it would leave them there. Correcting the result to
    failed takes them back (ResultRegistered, next revision); then the institution may delete it."""
    async with enrollment_env(settings_env) as env:
        data = await seed(env.db)
        await env.db["selections"].delete_one({"_id": data["sel_city2"]["_id"]})  # t2's only selection: `unpaid`
        unpaid = await add_selection(env.db, data["t2"], data["city"], paid=False, institution_id="inst-1")
        inst = bearer(make_token("institution", institution_id="inst-1", subject="account:inst1"))
        body = {"ce_number": "20260002", "course_code": "2602100001", "passed": True}
        passed = await env.client.post("/v1/terms/2602/results", json=body, headers=inst)
        assert passed.status_code == 201, passed.text
        refused = await env.client.delete(f"/v1/terms/2602/selections/{unpaid['_id']}", headers=inst)
        assert refused.status_code == 409 and refused.json()["code"] == "selection_passed"
        assert (await env.db["selections"].find_one({"_id": unpaid["_id"]}) or {})["status"] == "active"
        failed = await env.client.post("/v1/terms/2602/results", json={**body, "passed": False}, headers=inst)
        assert failed.status_code == 201, failed.text
        deleted = await env.client.delete(f"/v1/terms/2602/selections/{unpaid['_id']}", headers=inst)
        assert deleted.status_code == 204, deleted.text
        assert (await env.db["selections"].find_one({"_id": unpaid["_id"]}) or {})["status"] == "cancelled"
