"""From term creation to the hours bank, on real processes (DOMAIN §2, §4, §6): the city creates a
term and a course (the catalogue endpoints), a teacher is selected, the learning platform reports the start,
the course's training institution registers a passed result, and the hours service shows the hours
(ResultRegistered through enrollment's outbox relay and the broker). The teacher prints the result
certificate, and the term statistics count the teacher as studied and passed."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jijiao_stack.pytest_plugin import RunningSystem, eventually

pytestmark = pytest.mark.e2e

DEMO = "jijiao-demo"


async def test_term_to_passed_result_in_the_hours_bank(running_system: RunningSystem) -> None:
    system = running_system
    city = await system.login("cityadmin", DEMO)
    now = datetime.now(UTC)
    year = now.year
    term = f"{year % 100:02d}07"
    suffix = uuid.uuid4().hex[:6]
    async with system.client("enrollment", city) as client:
        school = await client.post(
            "/v1/schools",
            json={
                "name": f"结果端到端小学{suffix}",
                "school_type": "小学",
                "seal_name": f"广州市结果端到端小学{suffix}",
                "town": "石牌街",
                "nature": "公办",
                "head_name": "赵校长",
                "head_mobile": "13811114444",
                "district": "天河区",
            },
        )
        assert school.status_code == 201, school.text
        teacher = await system.register_teacher(
            city, school.json()["id"], "钱多多", subject="数学", phone="13912349876"
        )
        ce = teacher.ce_number
        created = await client.post(
            "/v1/terms",
            json={
                "code": term,
                "year": year,
                "selection_opens_at": (now - timedelta(hours=1)).isoformat(),
                "selection_closes_at": (now + timedelta(days=7)).isoformat(),
                "study_starts_on": (now + timedelta(days=8)).date().isoformat(),
                "study_ends_on": (now + timedelta(days=60)).date().isoformat(),
                "payment_due_at": (now + timedelta(days=20)).isoformat(),
            },
        )
        assert created.status_code in (201, 409), created.text  # 409: an earlier run of this session made it
        code = f"{term}{random.randint(10**8, 10**9 - 1)}"
        course = await client.post(
            f"/v1/terms/{term}/courses",
            json={
                "code": code,
                "name": "数学课堂中的问题链设计",
                "programme": "city",
                "hour_type": "professional",
                "hours": 24,
                "training_fee": 120,
                "material_fee": 0,
                "course_type": "remote",
                "payee": "广州市广播电视大学",
                "subject": "数学",
                "stage": "primary",
                "capacity": None,
                "institution_id": "inst-e2e",
            },
        )
        assert course.status_code == 201, course.text
        selected = await client.post(f"/v1/terms/{term}/selections", json={"ce_number": ce, "course_code": code})
        assert selected.status_code == 201, selected.text
        selection_id = selected.json()["id"]

        learning = await client.post(
            f"/v1/terms/{term}/learning-started", json={"records": [{"ce_number": ce, "course_code": code}]}
        )
        assert learning.json()[0]["outcome"] == "started"

    hours_path = f"/v1/teachers/{ce}/years/{year}/hours"

    async def hours() -> dict[str, Any] | None:
        async with system.client("hours", city) as client:
            response = await client.get(hours_path)
        return response.json() if response.status_code == 200 else None

    opened = await eventually(hours, timeout=30)  # the hours account opens from TeacherRegistered
    assert opened["professional"] == 0

    # The city registers for the course's institution (creating an institution account is another flow).
    async with system.client("enrollment", city) as client:
        result = await client.post(
            f"/v1/terms/{term}/results", json={"ce_number": ce, "course_code": code, "passed": True}
        )
        assert result.status_code == 201, result.text
        assert result.json()["result_id"] == selection_id
        again = await client.post(
            f"/v1/terms/{term}/results", json={"ce_number": ce, "course_code": code, "passed": True}
        )
        assert again.status_code == 200 and again.json()["changed"] is False

    async def credited() -> dict[str, Any] | None:
        body = await hours()
        return body if body and body["professional"] == 24 else None

    body = await eventually(credited, timeout=30)
    assert body["total"] >= 24

    async with system.client("enrollment", city) as client:
        certificate = await client.get(f"/v1/selections/{selection_id}/certificate.pdf")
        assert certificate.status_code == 200 and certificate.content.startswith(b"%PDF")
        stats = await client.get(
            f"/v1/terms/{term}/statistics/participation", params={"group_by": "district", "programme": "city"}
        )
        assert stats.status_code == 200
        total = stats.json()["total"]
        assert total["persons"] >= 1 and total["places"] >= 1
        courses = await client.get(f"/v1/terms/{term}/statistics/courses", params={"programme": "city"})
        mine = next(row for row in courses.json() if row["course_code"] == code)
        assert mine == {**mine, "passed": 1, "total": 1, "pass_rate": 1.0}

        # The institution corrects the result to failed: the hours bank takes the course's hours back;
        # corrected to passed again, they count again (each registration carries its revision).
        failed = await client.post(
            f"/v1/terms/{term}/results", json={"ce_number": ce, "course_code": code, "passed": False}
        )
        assert failed.status_code == 201 and failed.json()["result"] == "failed", failed.text

    async def withdrawn() -> dict[str, Any] | None:
        body = await hours()
        return body if body and body["professional"] == 0 else None

    body = await eventually(withdrawn, timeout=30)
    [revoked] = [entry for entry in body["entries"] if entry["adjusts"]]
    assert revoked["credited"] == -24 and revoked["reason"] == "result_revoked"

    async with system.client("enrollment", city) as client:
        passed_again = await client.post(
            f"/v1/terms/{term}/results", json={"ce_number": ce, "course_code": code, "passed": True}
        )
        assert passed_again.status_code == 201, passed_again.text
    body = await eventually(credited, timeout=30)
    assert sorted(entry["credited"] for entry in body["entries"]) == [-24, 24, 24]
