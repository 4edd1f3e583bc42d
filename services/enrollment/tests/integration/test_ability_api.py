"""Ability-improvement project against the real store: pilot scope, diagnostic attempts, the plan
(locked compulsory courses, >= 50 h, recommendations <= 60 h), optional changes, status, retakes."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from enrollment.bootstrap import Container, build
from enrollment.entrypoints.api.app import create_app
from enrollment.settings import Settings
from jijiao_kit.clock import FixedClock
from jijiao_stack.pytest_plugin import api_client, bearer

OPENS = datetime(2026, 9, 1, tzinfo=UTC)
CLOSES = datetime(2026, 9, 20, tzinfo=UTC)
INSIDE = datetime(2026, 9, 10, 8, 0, tzinfo=UTC)
AFTER = datetime(2026, 9, 25, tzinfo=UTC)
DISTRICT = "番禺区"
SCHOOL = "sch-ab"
BASE = "/v1/terms/2602/ability"


@dataclass
class Env:
    client: httpx.AsyncClient
    container: Container
    clock: FixedClock
    token: Callable[..., str]

    @property
    def city(self) -> dict[str, str]:
        return bearer(self.token("city_admin"))

    def teacher(self, ce: str) -> dict[str, str]:
        return bearer(self.token("teacher", ce_number=ce, school_id=SCHOOL, district=DISTRICT))

    @property
    def school_admin(self) -> dict[str, str]:
        return bearer(self.token("school_admin", school_id=SCHOOL, district=DISTRICT))


async def add_teacher(container: Container, **overrides: Any) -> str:
    ce = f"T{uuid.uuid4().hex[:10]}"
    await container.teachers.collection.insert_one(
        {
            "_id": ce,
            "name": "黎老师",
            "id_number": uuid.uuid4().hex[:18],
            "mobile": "13900000000",
            "school_id": SCHOOL,
            "school_name": "测试学校",
            "district": DISTRICT,
            "status": "active",
            "special_user": False,
            "subject": "数学",
            "stage": "primary",
            "outbox": {},
            "outbox_pending": 0,
            **overrides,
        }
    )
    return ce


COURSES = [
    ("G1", "general_compulsory", 8, None, None, None),
    ("S1", "subject_compulsory", 18, "数学", "primary", None),
    ("S2", "subject_compulsory", 18, "数学", "junior", None),
    ("R1", "school_research", 16, "数学", None, None),
    ("O10", "optional", 10, None, None, "系列A"),
    ("O6", "optional", 6, None, None, "系列A"),
    ("O4", "optional", 4, None, None, None),
    ("O3", "optional", 3, None, None, "系列B"),
]


@pytest.fixture
async def env(settings_env: dict[str, Any], make_token: Callable[..., str]) -> AsyncIterator[Env]:
    clock = FixedClock(INSIDE)
    container = build(Settings(**settings_env, step_up_required=False), clock=clock)
    async with api_client(create_app(container)) as client:
        e = Env(client, container, clock, make_token)
        r = await client.post(
            "/v1/terms",
            headers=e.city,
            json={
                "code": "2602",
                "year": 2026,
                "selection_opens_at": OPENS.isoformat(),
                "selection_closes_at": CLOSES.isoformat(),
                "study_starts_on": "2026-10-10",
                "study_ends_on": "2026-12-10",
                "payment_due_at": (CLOSES + timedelta(days=20)).isoformat(),
            },
        )
        assert r.status_code == 201, r.text
        for code, category, hours, subject, stage, series in COURSES:
            r = await client.post(
                "/v1/terms/2602/courses",
                headers=e.city,
                json={
                    "code": code,
                    "name": f"提升工程{code}",
                    "programme": "ability",
                    "hour_type": "professional",
                    "hours": hours,
                    "training_fee": "0",
                    "material_fee": "0",
                    "course_type": "micro" if category == "optional" else "remote",
                    "payee": "市工程办",
                    "subject": subject,
                    "stage": stage,
                    "capacity": None,
                    "ability_category": category,
                    "series": series,
                    "institution_id": "inst-ab",
                },
            )
            assert r.status_code == 201, r.text
        r = await client.put(f"{BASE}/pilots/{DISTRICT}", headers=e.city, json={"subjects": ["数学", "语文"]})
        assert r.status_code == 200, r.text
        yield e


async def assess(env: Env, ce: str, minutes: int = 25) -> httpx.Response:
    start = INSIDE - timedelta(hours=2)
    return await env.client.post(
        f"{BASE}/teachers/{ce}/diagnostics",
        headers=env.teacher(ce),
        json={
            "started_at": start.isoformat(),
            "finished_at": (start + timedelta(minutes=minutes)).isoformat(),
            "score": 71,
        },
    )


async def test_eligibility_and_diagnostic_attempts(env: Env) -> None:
    no_stage = await add_teacher(env.container, stage=None)
    assert (await assess(env, no_stage)).json()["code"] == "profile_incomplete"
    outside = await add_teacher(env.container, subject="音乐")
    assert (await assess(env, outside)).json()["code"] == "not_in_pilot"

    ce = await add_teacher(env.container)
    short = await assess(env, ce, minutes=10)
    assert short.status_code == 422 and short.json()["code"] == "diagnostic_incomplete"
    # No plan before a confirmed result.
    assert (await env.client.get(f"{BASE}/teachers/{ce}/plan", headers=env.teacher(ce))).json()["code"] == (
        "diagnostic_not_confirmed"
    )
    # Parallel attempts: exactly three are recorded.
    results = await asyncio.gather(*(assess(env, ce) for _ in range(8)))
    assert sorted(r.status_code for r in results) == [201] * 3 + [409] * 5
    diag = (await env.client.get(f"{BASE}/teachers/{ce}/diagnostics", headers=env.teacher(ce))).json()
    assert diag["attempts_used"] == 3 and sorted(diag["attempts"]) == ["1", "2", "3"]
    # Only the teacher; an admin cannot assess or confirm for them.
    r = await env.client.post(
        f"{BASE}/teachers/{ce}/diagnostics/confirm", headers=env.school_admin, json={"attempt": 2}
    )
    assert r.status_code == 403
    r = await env.client.post(f"{BASE}/teachers/{ce}/diagnostics/confirm", headers=env.teacher(ce), json={"attempt": 2})
    assert r.status_code == 200 and r.json()["confirmed_attempt"] == 2
    again = await env.client.post(
        f"{BASE}/teachers/{ce}/diagnostics/confirm", headers=env.teacher(ce), json={"attempt": 3}
    )
    assert again.json()["code"] == "diagnostic_confirmed"


async def ready_teacher(env: Env) -> str:
    ce = await add_teacher(env.container)
    assert (await assess(env, ce)).status_code == 201
    r = await env.client.post(f"{BASE}/teachers/{ce}/diagnostics/confirm", headers=env.teacher(ce), json={"attempt": 1})
    assert r.status_code == 200
    return ce


async def test_plan_recommendations_confirmation_and_locks(env: Env) -> None:
    ce = await ready_teacher(env)
    plan = (await env.client.get(f"{BASE}/teachers/{ce}/plan", headers=env.teacher(ce))).json()
    assert [c["code"] for c in plan["compulsory"]] == ["G1", "S1", "R1"]
    assert [c["code"] for c in plan["recommended_optional"]] == ["O10", "O6"]  # 42 + 16 = 58 <= 60
    assert [c["code"] for c in plan["other_optional"]] == ["O4", "O3"]
    assert plan["recommended_total_hours"] == 58

    # Ability courses are not selectable through the ordinary paths.
    r = await env.client.post(
        "/v1/terms/2602/selections", headers=env.teacher(ce), json={"ce_number": ce, "course_code": "O4"}
    )
    assert r.json()["code"] == "ability_plan_required"
    r = await env.client.post(
        "/v1/terms/2602/selections/collective", headers=env.school_admin, json={"course_code": "G1", "ce_numbers": [ce]}
    )
    assert r.json()["rows"][0]["code"] == "ability_collective_forbidden"

    below = await env.client.post(
        f"{BASE}/teachers/{ce}/plan/confirm", headers=env.teacher(ce), json={"optional_course_codes": ["O6"]}
    )
    assert below.status_code == 409 and below.json()["code"] == "ability_optional_below_minimum"
    assert await env.container.selection_repository.count({"ce_number": ce}) == 0  # nothing half-written

    confirmed = await env.client.post(
        f"{BASE}/teachers/{ce}/plan/confirm", headers=env.teacher(ce), json={"optional_series": ["系列A"]}
    )
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["plan_confirmed"] is True and body["selected_total_hours"] == 58
    assert sorted(s["course_code"] for s in body["selected"]) == ["G1", "O10", "O6", "R1", "S1"]

    # Compulsory courses are locked; optional ones change through the plan only.
    by_code = {s["course_code"]: s["selection_id"] for s in body["selected"]}
    r = await env.client.delete(f"/v1/terms/2602/selections/{by_code['G1']}", headers=env.teacher(ce))
    assert r.status_code == 409 and r.json()["code"] == "ability_compulsory_locked"
    r = await env.client.delete(f"/v1/terms/2602/selections/{by_code['G1']}", headers=env.school_admin)
    assert r.json()["code"] == "ability_compulsory_locked"
    r = await env.client.delete(f"/v1/terms/2602/selections/{by_code['O6']}", headers=env.teacher(ce))
    assert r.json()["code"] == "ability_plan_change_required"
    r = await env.client.delete(f"/v1/terms/2602/selections/{by_code['O6']}", headers=env.school_admin)
    assert r.status_code == 409 and r.json()["code"] == "ability_plan_change_required"  # not below 50 h behind the plan

    # Change the optional courses inside the window: O10 -> O4 + O3 + O6 would be 55 h.
    changed = await env.client.put(
        f"{BASE}/teachers/{ce}/plan/optional",
        headers=env.teacher(ce),
        json={"optional_course_codes": ["O6", "O4"], "optional_series": ["系列B"]},
    )
    assert changed.status_code == 200, changed.text
    assert sorted(s["course_code"] for s in changed.json()["selected"]) == ["G1", "O3", "O4", "O6", "R1", "S1"]
    assert changed.json()["selected_total_hours"] == 55
    too_little = await env.client.put(
        f"{BASE}/teachers/{ce}/plan/optional", headers=env.teacher(ce), json={"optional_course_codes": ["O4"]}
    )
    assert too_little.json()["code"] == "ability_optional_below_minimum"
    await env.container.teachers.collection.update_one({"_id": ce}, {"$set": {"special_user": True}})
    flagged = await env.client.put(
        f"{BASE}/teachers/{ce}/plan/optional", headers=env.teacher(ce), json={"optional_course_codes": ["O10"]}
    )
    assert flagged.status_code == 403 and flagged.json()["code"] == "special_user"
    await env.container.teachers.collection.update_one({"_id": ce}, {"$set": {"special_user": False}})
    env.clock.set(AFTER)
    late = await env.client.put(
        f"{BASE}/teachers/{ce}/plan/optional", headers=env.teacher(ce), json={"optional_course_codes": ["O10"]}
    )
    assert late.json()["code"] == "window_closed"
    assert await env.container.selection_repository.count({"ce_number": ce, "status": "active"}) == 6


async def test_status_and_retakes(env: Env) -> None:
    ce = await ready_teacher(env)
    r = await env.client.post(
        f"{BASE}/teachers/{ce}/plan/confirm", headers=env.teacher(ce), json={"optional_course_codes": ["O10"]}
    )
    assert r.status_code == 200
    # Results arrive on the selections (registered by the institution through the results endpoint).
    selections = env.container.selection_repository.collection
    await selections.update_many({"ce_number": ce}, {"$set": {"result": "passed"}})
    await selections.update_one({"ce_number": ce, "course_code": "R1"}, {"$set": {"result": "failed"}})
    status = (await env.client.get(f"{BASE}/teachers/{ce}/status", headers=env.teacher(ce))).json()
    assert status["obtained_hours"] == 36 and status["compulsory_passed"] is False and status["passed"] is False

    # A later term reopens the failed course as a retake, once.
    r = await env.client.post(
        "/v1/terms",
        headers=env.city,
        json={
            "code": "2701",
            "year": 2027,
            "selection_opens_at": "2027-03-01T00:00:00+08:00",
            "selection_closes_at": "2027-03-20T00:00:00+08:00",
            "study_starts_on": "2027-04-01",
            "study_ends_on": "2027-06-01",
            "payment_due_at": "2027-04-01T00:00:00+08:00",
        },
    )
    assert r.status_code == 201
    body = {"study_starts_on": "2027-04-01", "study_ends_on": "2027-05-01"}
    assert (
        await env.client.post("/v1/terms/2701/ability/retakes", headers=env.teacher(ce), json=body)
    ).status_code == 403
    first = await env.client.post("/v1/terms/2701/ability/retakes", headers=env.city, json=body)
    assert first.json()["opened"] == 1
    assert (await env.client.post("/v1/terms/2701/ability/retakes", headers=env.city, json=body)).json()["opened"] == 0
    mine = (await env.client.get("/v1/terms/2701/ability/retakes", headers=env.teacher(ce))).json()
    assert [(r["course_code"], r["status"], r["from_term"]) for r in mine] == [("R1", "open", "2602")]
    wrong = bearer(env.token("institution", institution_id="other"))
    assert (
        await env.client.post(
            f"/v1/terms/2701/ability/retakes/{mine[0]['id']}/result", headers=wrong, json={"passed": True}
        )
    ).status_code == 403
    right = bearer(env.token("institution", institution_id="inst-ab"))
    done = await env.client.post(
        f"/v1/terms/2701/ability/retakes/{mine[0]['id']}/result", headers=right, json={"passed": True}
    )
    assert done.status_code == 200 and done.json()["status"] == "passed"

    # The retake's pass is the course's result: the failed selection passes (next revision), its
    # ResultRegistered goes to the hours bank for the retake's term and year, and the programme status
    # follows. Registering it again changes nothing.
    retaken = await selections.find_one({"ce_number": ce, "course_code": "R1"}) or {}
    assert retaken is not None and retaken["result"] == "passed"
    events = [json.loads(entry["body"]) for entry in (retaken.get("outbox") or {}).values()]
    [event] = [e["payload"] for e in events if e["type"] == "enrollment.result_registered"]
    assert (event["passed"], event["term"], event["year"], event["result_id"]) == (True, "2701", 2027, retaken["_id"])
    assert event["revision"] == 1  # the fail above was written straight into the store, without a revision
    status = (await env.client.get(f"{BASE}/teachers/{ce}/status", headers=env.teacher(ce))).json()
    assert status["compulsory_passed"] is True
    again = await env.client.post(
        f"/v1/terms/2701/ability/retakes/{mine[0]['id']}/result", headers=right, json={"passed": True}
    )
    assert again.status_code == 200
    retaken = await selections.find_one({"ce_number": ce, "course_code": "R1"}) or {}
    assert len([e for e in (retaken.get("outbox") or {}).values() if "result_registered" in e["routing_key"]]) == 1


async def test_course_results_follow_the_activity_and_assignment_rule(env: Env) -> None:
    """§2a: a course passes with >= 60 % of its compulsory activities done, plus the assignment where
    the course has one; the result is registered like any other (and the programme status follows)."""
    ce = await ready_teacher(env)
    r = await env.client.post(
        f"{BASE}/teachers/{ce}/plan/confirm", headers=env.teacher(ce), json={"optional_course_codes": ["O10"]}
    )
    assert r.status_code == 200
    await env.container.infra.db["courses"].update_one(
        {"term": "2602", "code": "R1"}, {"$set": {"has_assignment": True}}
    )
    institution = bearer(env.token("institution", institution_id="inst-ab"))

    async def result(code: str, done: int, total: int, assignment: bool | None = None) -> httpx.Response:
        body = {"ce_number": ce, "course_code": code, "compulsory_done": done, "compulsory_total": total}
        return await env.client.post(
            f"{BASE}/results", headers=institution, json={**body, "assignment_passed": assignment}
        )

    assert (await result("G1", 5, 10)).json()["passed"] is False  # 50 % < 60 %
    six = await result("G1", 6, 10)
    assert six.json()["passed"] is True and six.json()["changed"] is True
    assert (await result("R1", 10, 10, False)).json()["passed"] is False  # the assignment failed
    assert (await result("R1", 10, 10, True)).json()["passed"] is True
    bad = await result("S1", 11, 10)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_activity_counts"
    other = await env.client.post(
        f"{BASE}/results",
        headers=bearer(env.token("institution", institution_id="other")),
        json={"ce_number": ce, "course_code": "S1", "compulsory_done": 10, "compulsory_total": 10},
    )
    assert other.status_code == 403
    status = (await env.client.get(f"{BASE}/teachers/{ce}/status", headers=env.teacher(ce))).json()
    passed = {c["course_code"]: c["result"] for c in status["courses"]}
    assert passed["G1"] == passed["R1"] == "passed" and passed["S1"] is None
