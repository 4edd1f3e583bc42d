"""Selection against the real store, broker and Redis: window, capacity, duplicates, deletion
rights, collective selection, Excel import, Idempotency-Key, and the outbox events."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import httpx
import pytest

from enrollment.adapters.selection_excel import selection_workbook
from enrollment.bootstrap import Container, build
from enrollment.entrypoints.api.app import create_app
from enrollment.entrypoints.worker import create_worker
from enrollment.settings import Settings
from jijiao_kit.clock import FixedClock
from jijiao_stack.pytest_plugin import api_client, bearer, eventually, running

OPENS = datetime(2026, 9, 1, 0, 0, tzinfo=UTC)
CLOSES = datetime(2026, 9, 20, 0, 0, tzinfo=UTC)
INSIDE = datetime(2026, 9, 10, 8, 0, tzinfo=UTC)
AFTER = datetime(2026, 9, 25, 8, 0, tzinfo=UTC)
SCHOOL = "sch-a"
OTHER_SCHOOL = "sch-b"
DISTRICT = "天河区"


@dataclass
class Env:
    client: httpx.AsyncClient
    container: Container
    clock: FixedClock
    token: Callable[..., str]

    def as_(self, role: str, **scopes: Any) -> dict[str, str]:
        return bearer(self.token(role, **scopes))

    @property
    def city(self) -> dict[str, str]:
        return self.as_("city_admin")

    @property
    def school_admin(self) -> dict[str, str]:
        return self.as_("school_admin", school_id=SCHOOL, district=DISTRICT)

    def teacher(self, ce_number: str) -> dict[str, str]:
        return self.as_("teacher", ce_number=ce_number, school_id=SCHOOL, district=DISTRICT)


async def add_teachers(container: Container, count: int, *, school_id: str = SCHOOL, **overrides: Any) -> list[str]:
    """Test data straight into the roster collection (argon2 hashing of the roster API is not the
    subject here)."""
    ids = [f"T{uuid.uuid4().hex[:10]}" for _ in range(count)]
    docs = [
        {
            "_id": ce,
            "name": f"教师{index}",
            "id_number": uuid.uuid4().hex[:18],
            "mobile": "13900000000",
            "school_id": school_id,
            "school_name": "测试学校",
            "district": DISTRICT,
            "status": "active",
            "special_user": False,
            "subject": "语文",
            "stage": "primary",
            "outbox": {},
            "outbox_pending": 0,
            **overrides,
        }
        for index, ce in enumerate(ids)
    ]
    await container.teachers.collection.insert_many(docs)
    return ids


async def create_term(env: Env, code: str = "2602") -> None:
    response = await env.client.post(
        "/v1/terms",
        headers=env.city,
        json={
            "code": code,
            "year": 2026,
            "selection_opens_at": OPENS.isoformat(),
            "selection_closes_at": CLOSES.isoformat(),
            "study_starts_on": "2026-10-10",
            "study_ends_on": "2026-12-10",
            "payment_due_at": (CLOSES + timedelta(days=20)).isoformat(),
        },
    )
    assert response.status_code == 201, response.text


async def create_course(env: Env, code: str, *, capacity: int | None = None, **fields: Any) -> dict[str, Any]:
    body = {
        "code": code,
        "name": f"课程{code}",
        "programme": "city",
        "hour_type": "professional",
        "hours": 24,
        "training_fee": "120.50",
        "material_fee": "20.00",
        "course_type": "remote",
        "payee": "广州市广播电视大学",
        "subject": "语文",
        "stage": "primary",
        "capacity": capacity,
        "institution_id": "inst-1",
        **fields,
    }
    response = await env.client.post("/v1/terms/2602/courses", headers=env.city, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
async def env(settings_env: dict[str, Any], make_token: Callable[..., str]) -> AsyncIterator[Env]:
    clock = FixedClock(INSIDE)
    container = build(Settings(**settings_env, step_up_required=False), clock=clock)
    async with api_client(create_app(container)) as client:
        e = Env(client, container, clock, make_token)
        await create_term(e)
        yield e


async def select(env: Env, headers: dict[str, str], ce: str, code: str, **kw: Any) -> httpx.Response:
    return await env.client.post(
        "/v1/terms/2602/selections", headers=headers, json={"ce_number": ce, "course_code": code}, **kw
    )


async def course(env: Env, code: str) -> dict[str, Any]:
    doc = await env.container.course_repository.collection.find_one({"_id": f"2602:{code}"})
    assert doc is not None
    return doc


async def test_teacher_selects_and_cancels_inside_the_window(env: Env) -> None:
    [ce] = await add_teachers(env.container, 1)
    await create_course(env, "C1", capacity=5)
    response = await select(env, env.teacher(ce), ce, "C1")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "active" and body["training_fee"] == "120.50" and body["selected_by"] == "teacher"
    stored = await env.container.selection_repository.get(body["id"])
    assert stored is not None and stored["training_fee_fen"] == 12050 and stored["active_key"] == f"2602:{ce}:C1"
    assert (await course(env, "C1"))["taken"] == 1

    mine = await env.client.get(f"/v1/terms/2602/teachers/{ce}/selections", headers=env.teacher(ce))
    assert mine.status_code == 200 and [i["course_code"] for i in mine.json()["items"]] == ["C1"]
    assert mine.json()["seconds_until_close"] > 0

    deleted = await env.client.delete(f"/v1/terms/2602/selections/{body['id']}", headers=env.teacher(ce))
    assert deleted.status_code == 204
    assert (await course(env, "C1"))["taken"] == 0
    raw = await env.container.selection_repository.collection.find_one({"_id": body["id"]})
    assert raw is not None and raw["status"] == "cancelled" and "active_key" not in raw
    # The course list shows the cancelled selection with its time (written by $set).
    after = (await env.client.get(f"/v1/terms/2602/teachers/{ce}/selections", headers=env.teacher(ce))).json()
    assert after["items"][0]["status"] == "cancelled" and after["items"][0]["cancelled_at"].startswith(
        "2026-09-10T08:00"
    )
    # Re-selection after a cancel is allowed; deleting twice is a no-op.
    assert (await select(env, env.teacher(ce), ce, "C1")).status_code == 201
    assert (
        await env.client.delete(f"/v1/terms/2602/selections/{body['id']}", headers=env.teacher(ce))
    ).status_code == 204


async def test_window_closed_outside_the_window(env: Env) -> None:
    [ce] = await add_teachers(env.container, 1)
    await create_course(env, "C1")
    ok = await select(env, env.teacher(ce), ce, "C1")
    env.clock.set(AFTER)
    refused = await select(env, env.teacher(ce), ce, "C1")
    assert refused.status_code == 409 and refused.json()["code"] == "window_closed"
    assert refused.headers["content-type"].startswith("application/problem+json")
    cancel = await env.client.delete(f"/v1/terms/2602/selections/{ok.json()['id']}", headers=env.teacher(ce))
    assert cancel.status_code == 409 and cancel.json()["code"] == "window_closed"
    env.clock.set(OPENS - timedelta(seconds=1))
    assert (await select(env, env.teacher(ce), ce, "C1")).json()["code"] == "window_closed"


async def test_deletion_rights_inside_and_after_the_window(env: Env) -> None:
    a, b = await add_teachers(env.container, 2)
    await create_course(env, "C1", capacity=10)
    first = (await select(env, env.school_admin, a, "C1")).json()["id"]
    second = (await select(env, env.school_admin, b, "C1")).json()["id"]
    # Another school's admin cannot see it; the own school admin deletes inside the window.
    other = env.as_("school_admin", school_id=OTHER_SCHOOL, district=DISTRICT)
    assert (await env.client.delete(f"/v1/terms/2602/selections/{first}", headers=other)).status_code == 404
    assert (await env.client.delete(f"/v1/terms/2602/selections/{first}", headers=env.school_admin)).status_code == 204
    env.clock.set(AFTER)
    late = await env.client.delete(f"/v1/terms/2602/selections/{second}", headers=env.school_admin)
    assert late.status_code == 409 and late.json()["code"] == "window_closed"
    wrong = await env.client.delete(
        f"/v1/terms/2602/selections/{second}", headers=env.as_("institution", institution_id="inst-2")
    )
    assert wrong.status_code == 404
    right = await env.client.delete(
        f"/v1/terms/2602/selections/{second}", headers=env.as_("institution", institution_id="inst-1")
    )
    assert right.status_code == 204
    assert (await course(env, "C1"))["taken"] == 0


async def test_special_archived_and_foreign_teachers_are_refused(env: Env) -> None:
    [special] = await add_teachers(env.container, 1, special_user=True)
    [left] = await add_teachers(env.container, 1, status="left")
    [foreign] = await add_teachers(env.container, 1, school_id=OTHER_SCHOOL)
    await create_course(env, "C1", capacity=3)
    r = await select(env, env.teacher(special), special, "C1")
    assert r.status_code == 403 and r.json()["code"] == "special_user"
    r = await select(env, env.school_admin, left, "C1")
    assert r.status_code == 409 and r.json()["code"] == "teacher_not_active"
    r = await select(env, env.school_admin, foreign, "C1")
    assert r.status_code == 403 and r.json()["code"] == "selection_forbidden"
    r = await select(env, env.teacher(special), foreign, "C1")
    assert r.status_code == 403
    assert (await course(env, "C1"))["taken"] == 0
    assert await env.container.selection_repository.count({}) == 0


async def test_capacity_holds_under_200_parallel_selections(env: Env) -> None:
    teachers = await add_teachers(env.container, 200)
    await create_course(env, "FULL", capacity=37)
    responses = await asyncio.gather(*(select(env, env.teacher(ce), ce, "FULL") for ce in teachers))
    codes = [r.status_code for r in responses]
    assert codes.count(201) == 37
    assert codes.count(409) == 163
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"course_full"}
    assert (await course(env, "FULL"))["taken"] == 37
    assert await env.container.selection_repository.count({"course_code": "FULL", "status": "active"}) == 37


async def test_one_selection_per_teacher_and_course_under_200_parallel_requests(env: Env) -> None:
    [ce] = await add_teachers(env.container, 1)
    await create_course(env, "ONE", capacity=500)
    responses = await asyncio.gather(*(select(env, env.teacher(ce), ce, "ONE") for _ in range(200)))
    codes = [r.status_code for r in responses]
    assert codes.count(201) == 1 and codes.count(409) == 199
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"already_selected"}
    assert await env.container.selection_repository.count({"ce_number": ce, "status": "active"}) == 1
    # Every loser gave its place back.
    assert (await course(env, "ONE"))["taken"] == 1


async def test_idempotency_key_replays_the_first_response(env: Env) -> None:
    [ce] = await add_teachers(env.container, 1)
    await create_course(env, "C1", capacity=2)
    headers = {**env.teacher(ce), "Idempotency-Key": "k-1"}
    first = await select(env, headers, ce, "C1")
    again = await select(env, headers, ce, "C1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    # Concurrent duplicates with one new key: all see the same single selection.
    headers2 = {**env.teacher(ce), "Idempotency-Key": "k-2"}
    await env.client.delete(f"/v1/terms/2602/selections/{first.json()['id']}", headers=env.teacher(ce))
    burst = await asyncio.gather(*(select(env, headers2, ce, "C1") for _ in range(50)))
    assert {r.status_code for r in burst} == {201}
    assert len({r.json()["id"] for r in burst}) == 1
    assert await env.container.selection_repository.count({"ce_number": ce, "status": "active"}) == 1
    # Same key, other request: refused.
    await create_course(env, "C2")
    reused = await select(env, headers2, ce, "C2")
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    # A stored error is replayed as well.
    env.clock.set(AFTER)
    headers3 = {**env.teacher(ce), "Idempotency-Key": "k-3"}
    assert (await select(env, headers3, ce, "C2")).json()["code"] == "window_closed"
    env.clock.set(INSIDE)
    assert (await select(env, headers3, ce, "C2")).json()["code"] == "window_closed"


async def test_collective_selection_by_course_and_by_teacher_reports_each_row(env: Env) -> None:
    a, b = await add_teachers(env.container, 2)
    [left] = await add_teachers(env.container, 1, status="left")
    await create_course(env, "C1", capacity=2)
    await create_course(env, "C2")
    await create_course(env, "AB", programme="ability", ability_category="optional", hour_type="elective")
    by_course = await env.client.post(
        "/v1/terms/2602/selections/collective",
        headers=env.school_admin,
        json={"course_code": "C1", "ce_numbers": [a, left, b, "NOPE"]},
    )
    assert by_course.status_code == 200, by_course.text
    report = by_course.json()
    assert report["accepted"] == 2 and report["rejected"] == 2
    assert [row["code"] for row in report["rows"]] == [None, "teacher_not_active", None, "teacher_not_found"]
    by_teacher = await env.client.post(
        "/v1/terms/2602/selections/collective",
        headers=env.school_admin,
        json={"ce_number": a, "course_codes": ["C1", "C2", "AB", "ZZ"]},
    )
    rows = by_teacher.json()["rows"]
    assert [row["code"] for row in rows] == [
        "already_selected",
        None,
        "ability_collective_forbidden",
        "course_not_found",
    ]
    assert await env.container.selection_repository.count({"status": "active"}) == 3
    assert (await course(env, "AB"))["taken"] == 0
    teacher_try = await env.client.post(
        "/v1/terms/2602/selections/collective", headers=env.teacher(a), json={"ce_number": a, "course_codes": ["C2"]}
    )
    assert teacher_try.status_code == 403


async def test_excel_import_reports_rows_and_rejected_rows_leave_no_trace(env: Env) -> None:
    a, b = await add_teachers(env.container, 2)
    await create_course(env, "C1", capacity=1)
    workbook = selection_workbook([(a, "教师0", "C1"), (b, "教师1", "C1"), (a, "错名", "C1"), ("", "", "C1")])
    response = await env.client.post(
        "/v1/terms/2602/selections/import",
        headers=env.school_admin,
        files={"file": ("选课.xlsx", workbook, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
    )
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert [row["row"] for row in rows] == [2, 3, 4, 5]
    assert rows[0]["accepted"] is True
    assert rows[1]["code"] == "course_full"
    assert rows[2]["code"] == "name_mismatch"
    assert rows[3]["code"] == "missing_cells"
    assert await env.container.selection_repository.count({}) == 1
    assert (await course(env, "C1"))["taken"] == 1
    bad = await env.client.post(
        "/v1/terms/2602/selections/import",
        headers=env.school_admin,
        files={"file": ("x.xlsx", b"not excel", "text/plain")},
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_workbook"


async def test_events_leave_through_the_outbox(env: Env, settings_env: dict[str, Any]) -> None:
    [ce] = await add_teachers(env.container, 1)
    await create_course(env, "C1")
    topology = env.container.settings.topology
    connection = await aio_pika.connect(settings_env["rabbitmq_url"])
    received: list[dict[str, Any]] = []
    async with connection, running(create_worker(env.container)):
        channel = await connection.channel()
        exchange = await channel.get_exchange(topology.events_exchange)  # declared by the worker
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, routing_key="enrollment.#")

        async def consume(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            received.append(json.loads(message.body))
            await message.ack()

        await queue.consume(consume)
        await create_term(env, "2601")
        made = (await select(env, env.teacher(ce), ce, "C1")).json()
        await env.client.delete(f"/v1/terms/2602/selections/{made['id']}", headers=env.teacher(ce))

        async def all_three() -> bool:
            types = [m["type"] for m in received]
            return all(
                t in types
                for t in ("enrollment.selection_made", "enrollment.selection_cancelled", "enrollment.term_scheduled")
            )

        await eventually(all_three, timeout=15)
    by_type = {m["type"]: m for m in received}
    assert by_type["enrollment.selection_made"]["payload"]["selection_id"] == made["id"]
    assert by_type["enrollment.selection_made"]["payload"]["training_fee"] in ("120.50", 120.5)
    assert by_type["enrollment.term_scheduled"]["payload"]["term"] == "2601"


async def test_school_selection_query_is_scoped(env: Env) -> None:
    a, b = await add_teachers(env.container, 2)
    [c] = await add_teachers(env.container, 1, school_id=OTHER_SCHOOL)
    await create_course(env, "C1")
    for ce in (a, b):
        assert (await select(env, env.school_admin, ce, "C1")).status_code == 201
    assert (await select(env, env.city, c, "C1")).status_code == 201
    listed = await env.client.get("/v1/terms/2602/selections", headers=env.school_admin, params={"school_id": SCHOOL})
    assert listed.status_code == 200 and listed.json()["total"] == 2
    assert {item["ce_number"] for item in listed.json()["items"]} == {a, b}
    other = await env.client.get(
        "/v1/terms/2602/selections", headers=env.school_admin, params={"school_id": OTHER_SCHOOL}
    )
    assert other.status_code == 403
    teacher = await env.client.get("/v1/terms/2602/selections", headers=env.teacher(a), params={"school_id": SCHOOL})
    assert teacher.status_code == 403
    own_district = env.as_("district_admin", district=DISTRICT)
    assert (
        await env.client.get("/v1/terms/2602/selections", headers=own_district, params={"school_id": SCHOOL})
    ).json()["total"] == 2
    elsewhere = env.as_("district_admin", district="白云区")
    assert (await env.client.get("/v1/terms/2602/selections", headers=elsewhere, params={"school_id": SCHOOL})).json()[
        "total"
    ] == 0


async def test_school_selection_query_needs_step_up_when_switched_on(
    settings_env: dict[str, Any], make_token: Callable[..., str]
) -> None:
    container = build(Settings(**settings_env), clock=FixedClock(INSIDE))
    async with api_client(create_app(container)) as client:
        token = make_token("school_admin", school_id=SCHOOL, district=DISTRICT)
        response = await client.get("/v1/terms/2602/selections", headers=bearer(token), params={"school_id": SCHOOL})
        assert response.status_code == 403 and response.json()["code"] == "step_up_required"


async def test_selection_counts_per_course_by_scope(env: Env) -> None:
    a, b = await add_teachers(env.container, 2)
    [c] = await add_teachers(env.container, 1, school_id=OTHER_SCHOOL)
    await create_course(env, "C1")
    await create_course(env, "C2")
    for ce, code in ((a, "C1"), (b, "C1"), (a, "C2"), (c, "C1")):
        assert (await select(env, env.city, ce, code)).status_code == 201
    url = "/v1/terms/2602/selection-counts"
    city = (await env.client.get(url, headers=env.city)).json()
    assert [(r["course_code"], r["selected"]) for r in city] == [("C1", 3), ("C2", 1)]
    school = (await env.client.get(url, headers=env.school_admin, params={"school_id": OTHER_SCHOOL})).json()
    assert [(r["course_code"], r["selected"]) for r in school] == [("C1", 2), ("C2", 1)]  # own school only
    elsewhere = (await env.client.get(url, headers=env.as_("district_admin", district="白云区"))).json()
    assert elsewhere == []
    assert (await env.client.get(url, headers=env.teacher(a))).status_code == 403


async def test_city_reschedules_a_term(env: Env) -> None:
    later = (CLOSES + timedelta(days=5)).isoformat()
    r = await env.client.patch("/v1/terms/2602", headers=env.city, json={"selection_closes_at": later})
    assert r.status_code == 200 and r.json()["selection_closes_at"].startswith("2026-09-25")
    bad = await env.client.patch(
        "/v1/terms/2602", headers=env.city, json={"selection_closes_at": (OPENS - timedelta(days=1)).isoformat()}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_term_dates"
    assert (await env.client.patch("/v1/terms/2602", headers=env.school_admin, json={})).status_code == 403
    env.clock.set(CLOSES + timedelta(days=1))
    [ce] = await add_teachers(env.container, 1)
    await create_course(env, "C1")
    assert (await select(env, env.teacher(ce), ce, "C1")).status_code == 201  # the window is longer now
    term = await env.container.term_service.terms.get("2602")
    assert term is not None and term["outbox_pending"] == 2  # created + rescheduled
