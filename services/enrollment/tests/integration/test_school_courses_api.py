"""School-based courses end to end inside enrollment: declare → edit → approve (SchoolCourseApproved)
→ bulk enrollment through the shared selection path → bulk results (ResultRegistered, school_based)."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jijiao_stack.pytest_plugin import bearer

sys.path.insert(0, str(Path(__file__).parent))
from seeded_documents import add_school, add_teacher, add_term, enrollment_env


def events_of(doc: dict[str, Any], event_type: str) -> list[dict[str, Any]]:
    bodies = [json.loads(entry["body"]) for entry in (doc.get("outbox") or {}).values()]
    return [body for body in bodies if body["type"] == event_type]


async def seed(db: Any) -> None:
    await add_term(db, "2601", year=2026)
    await add_term(db, "2602", year=2026)
    s1 = await add_school(db, "s1", district="天河区")
    s2 = await add_school(db, "s2", district="海珠区")
    for n in range(5):
        await add_teacher(db, f"2026000{n}", s1)
    await add_teacher(db, "20260009", s2)
    await add_teacher(db, "20260008", s1, special_user=True, special_user_times=1)


async def declare(env: Any, school_admin: dict[str, str], **extra: Any) -> dict[str, Any]:
    response = await env.client.post(
        "/v1/schools/s1/school-courses", json={"name": "课堂观察与议课", "hours": 6, **extra}, headers=school_admin
    )
    assert response.status_code == 201, response.text
    declared: dict[str, Any] = response.json()
    return declared


async def test_declare_edit_approve_enroll_and_register_results(settings_env: dict[str, Any], make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        await seed(env.db)
        school = bearer(make_token("school_admin", school_id="s1", district="天河区"))
        course = await declare(env, school)
        assert (
            course["term"] == "2602"
            and course["declaration_status"] == "declared"
            and course["hour_type"] == "elective"
        )
        assert course["review_due_on"] == "2026-12-21" and course["editable"] is True
        base = f"/v1/terms/2602/school-courses/{course['code']}"

        edited = await env.client.patch(base, json={"hours": 8, "lecturer": "李老师"}, headers=school)
        assert edited.status_code == 200 and edited.json()["hours"] == 8.0

        early = await env.client.post(f"{base}/enrollments", json={"ce_numbers": ["20260000"]}, headers=school)
        assert early.json()[0]["code"] == "course_not_approved"

        other_district = await env.client.post(
            f"{base}/review", json={"approved": True}, headers=bearer(make_token("district_admin", district="海珠区"))
        )
        assert other_district.status_code == 403
        by_school = await env.client.post(f"{base}/review", json={"approved": True}, headers=school)
        assert by_school.status_code == 403
        approved = await env.client.post(
            f"{base}/review",
            json={"approved": True, "comment": "同意"},
            headers=bearer(make_token("district_admin", district="天河区")),
        )
        assert approved.status_code == 200 and approved.json()["declaration_status"] == "approved"
        stored = await env.db["courses"].find_one({"_id": f"2602:{course['code']}"}) or {}
        [event] = events_of(stored, "enrollment.school_course_approved")
        assert event["payload"]["hours"] == 8.0 and event["payload"]["school_id"] == "s1"
        locked = await env.client.patch(base, json={"hours": 10}, headers=school)
        assert locked.status_code == 409 and locked.json()["code"] == "course_approved_locked"
        twice = await env.client.post(
            f"{base}/review", json={"approved": True}, headers=bearer(make_token("district_admin", district="天河区"))
        )
        assert twice.status_code == 409

        enrolled = await env.client.post(
            f"{base}/enrollments",
            json={"ce_numbers": ["20260000", "20260001", "20260000", "20260009", "20260008", "20269999"]},
            headers=school,
        )
        assert enrolled.status_code == 200, enrolled.text
        assert [(r["ce_number"], r["ok"], r["code"]) for r in enrolled.json()] == [
            ("20260000", True, None),
            ("20260001", True, None),
            ("20260000", False, "already_selected"),
            ("20260009", False, "teacher_not_in_school"),
            ("20260008", False, "special_user"),
            ("20269999", False, "teacher_not_found"),
        ]
        selection = await env.db["selections"].find_one({"active_key": f"2602:20260000:{course['code']}"}) or {}
        assert selection["programme"] == "school" and events_of(selection, "enrollment.selection_made")
        # enrolled by mistake (outside any selection window): the school admin takes it back
        wrong = await env.db["selections"].find_one({"active_key": f"2602:20260001:{course['code']}"}) or {}
        undone = await env.client.delete(f"/v1/terms/2602/selections/{wrong['_id']}", headers=school)
        assert undone.status_code == 204, undone.text
        other_school = await env.client.delete(
            f"/v1/terms/2602/selections/{selection['_id']}", headers=bearer(make_token("school_admin", school_id="s2"))
        )
        assert other_school.status_code == 404 and other_school.json()["code"] == "selection_not_found"

        results = await env.client.post(
            f"{base}/results",
            json={"results": [{"ce_number": "20260000", "passed": True}, {"ce_number": "20260002", "passed": True}]},
            headers=school,
        )
        assert [(r["ok"], r["code"]) for r in results.json()] == [(True, None), (False, "selection_not_found")]
        selection = await env.db["selections"].find_one({"_id": selection["_id"]}) or {}
        [result] = events_of(selection, "enrollment.result_registered")
        assert result["payload"]["source"] == "school_based" and result["payload"]["category"] == "elective"
        assert result["payload"]["hours"] == 8.0 and result["payload"]["year"] == 2026

        listed = await env.client.get("/v1/schools/s1/school-courses", headers=school)
        assert [c["code"] for c in listed.json()] == [course["code"]]
        foreign = await env.client.get(
            "/v1/schools/s1/school-courses", headers=bearer(make_token("school_admin", school_id="s2"))
        )
        assert foreign.status_code == 403


async def test_declaration_deadline(settings_env: dict[str, Any], make_token: Any) -> None:
    async with enrollment_env(settings_env, now=datetime(2027, 1, 5, 2, tzinfo=UTC)) as env:
        await seed(env.db)
        school = bearer(make_token("school_admin", school_id="s1"))
        closed = await env.client.post(
            "/v1/schools/s1/school-courses", json={"name": "x", "hours": 2, "term": "2602"}, headers=school
        )
        assert closed.status_code == 409 and closed.json()["code"] == "declaration_closed"
        no_term = await env.client.post("/v1/schools/s1/school-courses", json={"name": "x", "hours": 2}, headers=school)
        assert no_term.status_code == 422 and no_term.json()["code"] == "term_required"
        other = await env.client.post("/v1/schools/s2/school-courses", json={"name": "x", "hours": 2}, headers=school)
        assert other.status_code == 403


async def test_rejected_declarations_can_be_corrected(settings_env: dict[str, Any], make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        await seed(env.db)
        school = bearer(make_token("school_admin", school_id="s1"))
        course = await declare(env, school, term="2601", institution_id="inst-7")
        base = f"/v1/terms/2601/school-courses/{course['code']}"
        rejected = await env.client.post(
            f"{base}/review",
            json={"approved": False, "comment": "请补充培训计划"},
            headers=bearer(make_token("institution", institution_id="inst-7")),
        )
        assert (
            rejected.json()["declaration_status"] == "rejected"
            and rejected.json()["review_comment"] == "请补充培训计划"
        )
        stored = await env.db["courses"].find_one({"_id": f"2601:{course['code']}"}) or {}
        [event] = events_of(stored, "enrollment.school_course_rejected")  # notify tells the school
        assert event["payload"]["comment"] == "请补充培训计划" and event["payload"]["school_id"] == "s1"
        assert events_of(stored, "enrollment.school_course_approved") == []
        resubmitted = await env.client.patch(base, json={"description": "已补充"}, headers=school)
        assert resubmitted.json()["declaration_status"] == "declared"
        bad = await env.client.post("/v1/schools/s1/school-courses", json={"name": "", "hours": 0}, headers=school)
        assert bad.status_code == 422


async def test_edit_racing_approval_never_changes_an_approved_course(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with enrollment_env(settings_env) as env:
        await seed(env.db)
        school = bearer(make_token("school_admin", school_id="s1"))
        course = await declare(env, school)
        base = f"/v1/terms/2602/school-courses/{course['code']}"
        district = bearer(make_token("district_admin", district="天河区"))
        responses = await asyncio.gather(
            env.client.post(f"{base}/review", json={"approved": True}, headers=district),
            *(env.client.patch(base, json={"hours": 12}, headers=school) for _ in range(20)),
        )
        stored = await env.db["courses"].find_one({"_id": f"2602:{course['code']}"}) or {}
        approved_event = events_of(stored, "enrollment.school_course_approved")
        assert all(r.status_code in (200, 409) for r in responses)
        if responses[0].status_code == 200:
            assert stored["declaration_status"] == "approved"
            assert approved_event[0]["payload"]["hours"] == float(stored["hours"])
            assert all(r.json()["code"] == "course_approved_locked" for r in responses[1:] if r.status_code == 409)
        else:  # an edit landed between the review's read and write: the stale review is refused
            assert responses[0].json()["code"] == "course_not_pending"
            assert stored["declaration_status"] == "declared" and approved_event == []
