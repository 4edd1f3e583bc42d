"""Selection on real processes (DOMAIN §2): the city schedules a term (TermScheduled reaches
notify through the outbox relay and the broker) and a capacity-1 course; a teacher who signed in
selects it with an Idempotency-Key and a retry replays the same selection; a collective selection
for a colleague reports the course full on its row; the teacher cancels inside the window and the
colleague's collective selection then succeeds."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from jijiao_stack.pytest_plugin import RunningSystem, eventually

pytestmark = pytest.mark.e2e

DEMO = "jijiao-demo"


async def test_selection_flow_on_the_running_system(running_system: RunningSystem) -> None:
    system = running_system
    city = await system.login("cityadmin", DEMO)
    now = datetime.now(UTC)
    term = f"{now.year % 100:02d}08"
    suffix = uuid.uuid4().hex[:6]
    async with system.client("enrollment", city) as client:
        school = await client.post(
            "/v1/schools",
            json={
                "name": f"选课端到端小学{suffix}",
                "school_type": "小学",
                "seal_name": f"广州市选课端到端小学{suffix}",
                "town": "石牌街",
                "nature": "公办",
                "head_name": "孙校长",
                "head_mobile": "13811115555",
                "district": "天河区",
            },
        )
        assert school.status_code == 201, school.text
        # the first signs in and replaces the initial password (it must be replaced before anything else)
        first, second = [
            await system.register_teacher(city, school.json()["id"], name, phone="13912340000", password=password)
            for name, password in (("周一", "Teacher2026x"), ("吴二", None))
        ]
        created = await client.post(
            "/v1/terms",
            json={
                "code": term,
                "year": now.year,
                "selection_opens_at": (now - timedelta(hours=1)).isoformat(),
                "selection_closes_at": (now + timedelta(days=7)).isoformat(),
                "study_starts_on": (now + timedelta(days=8)).date().isoformat(),
                "study_ends_on": (now + timedelta(days=60)).date().isoformat(),
                "payment_due_at": (now + timedelta(days=20)).isoformat(),
            },
        )
        assert created.status_code in (201, 409), created.text  # 409: an earlier run of this session
        code = f"{term}{random.randint(10**8, 10**9 - 1)}"
        course = await client.post(
            f"/v1/terms/{term}/courses",
            json={
                "code": code,
                "name": "面授：课堂观察与诊断",
                "programme": "city",
                "hour_type": "professional",
                "hours": 24,
                "training_fee": "150.00",
                "material_fee": "30.00",
                "course_type": "face_to_face",
                "payee": "广州市广播电视大学",
                "subject": "语文",
                "stage": "primary",
                "capacity": 1,
                "institution_id": "inst-e2e",
            },
        )
        assert course.status_code == 201, course.text

    async with system.client("enrollment", first.token) as teacher:
        headers = {"Idempotency-Key": f"e2e-{suffix}"}
        body = {"ce_number": first.ce_number, "course_code": code}
        made = await teacher.post(f"/v1/terms/{term}/selections", json=body, headers=headers)
        assert made.status_code == 201, made.text
        assert made.json()["training_fee"] == "150.00" and made.json()["selected_by"] == "teacher"
        replay = await teacher.post(f"/v1/terms/{term}/selections", json=body, headers=headers)
        assert replay.status_code == 201 and replay.json()["id"] == made.json()["id"]
        assert replay.headers["Idempotent-Replayed"] == "true"
        mine = await teacher.get(f"/v1/terms/{term}/teachers/{first.ce_number}/selections")
        assert [item["course_code"] for item in mine.json()["items"]] == [code]

    async with system.client("enrollment", city) as client:
        full = await client.post(
            f"/v1/terms/{term}/selections/collective", json={"course_code": code, "ce_numbers": [second.ce_number]}
        )
        assert full.status_code == 200 and full.json()["rows"][0]["code"] == "course_full"

    async with system.client("enrollment", first.token) as teacher:
        cancelled = await teacher.delete(f"/v1/terms/{term}/selections/{made.json()['id']}")
        assert cancelled.status_code == 204

    async with system.client("enrollment", city) as client:
        again = await client.post(
            f"/v1/terms/{term}/selections/collective", json={"course_code": code, "ce_numbers": [second.ce_number]}
        )
        assert again.json()["accepted"] == 1, again.text
        course_now = await client.get(f"/v1/terms/{term}/courses/{code}")
        assert course_now.json()["taken"] == 1 and course_now.json()["remaining"] == 0

    # TermScheduled went out with the term and notify keeps the term's reminder schedule.
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(system.mongodb_url, tz_aware=True)
    try:
        notify_terms = mongo[f"{system.name_prefix}_notify"]["terms"]

        async def scheduled() -> bool:
            return await notify_terms.find_one({"_id": term}) is not None

        await eventually(scheduled, timeout=20)
    finally:
        await mongo.close()
