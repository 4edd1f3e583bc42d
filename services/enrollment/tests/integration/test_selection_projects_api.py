"""Special projects (专项培训) against the real store: apply, three review steps in order, admission
selects the course (capacity respected), rejection ends it, scope of the lists."""

from __future__ import annotations

import asyncio
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
DISTRICT = "越秀区"
SCHOOL = "sch-p"


@dataclass
class Env:
    client: httpx.AsyncClient
    container: Container
    token: Callable[..., str]

    def h(self, role: str, **scopes: Any) -> dict[str, str]:
        return bearer(self.token(role, **scopes))


async def add_teacher(container: Container) -> str:
    ce = f"T{uuid.uuid4().hex[:10]}"
    await container.teachers.collection.insert_one(
        {
            "_id": ce,
            "name": "冯老师",
            "id_number": uuid.uuid4().hex[:18],
            "school_id": SCHOOL,
            "school_name": "学校",
            "district": DISTRICT,
            "status": "active",
            "special_user": False,
            "subject": "数学",
            "stage": "senior",
            "outbox": {},
            "outbox_pending": 0,
        }
    )
    return ce


@pytest.fixture
async def env(settings_env: dict[str, Any], make_token: Callable[..., str]) -> AsyncIterator[Env]:
    container = build(Settings(**settings_env, step_up_required=False), clock=FixedClock(INSIDE))
    async with api_client(create_app(container)) as client:
        e = Env(client, container, make_token)
        city = e.h("city_admin")
        r = await client.post(
            "/v1/terms",
            headers=city,
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
        assert r.status_code == 201
        for code, programme, capacity in (("SP1", "special", 1), ("C1", "city", None)):
            r = await client.post(
                "/v1/terms/2602/courses",
                headers=city,
                json={
                    "code": code,
                    "name": f"专项{code}",
                    "programme": programme,
                    "hour_type": "professional",
                    "hours": 36,
                    "training_fee": "0",
                    "material_fee": "0",
                    "course_type": "face_to_face",
                    "payee": "培训机构",
                    "subject": None,
                    "stage": None,
                    "capacity": capacity,
                    "institution_id": "inst-p",
                },
            )
            assert r.status_code == 201, r.text
        yield e


async def test_application_reviews_and_admission(env: Env) -> None:
    a, b = await add_teacher(env.container), await add_teacher(env.container)
    school = env.h("principal", school_id=SCHOOL, district=DISTRICT)
    district = env.h("district_admin", district=DISTRICT)
    institution = env.h("institution", institution_id="inst-p")

    # Direct selection of a special project is refused; application is the way in.
    direct = await env.client.post(
        "/v1/terms/2602/selections", headers=env.h("teacher", ce_number=a), json={"ce_number": a, "course_code": "SP1"}
    )
    assert direct.json()["code"] == "special_application_required"
    not_special = await env.client.post(
        "/v1/terms/2602/special-applications", headers=env.h("teacher", ce_number=a), json={"course_code": "C1"}
    )
    assert not_special.json()["code"] == "not_a_special_project"

    ids = []
    for ce in (a, b):
        r = await env.client.post(
            "/v1/terms/2602/special-applications", headers=env.h("teacher", ce_number=ce), json={"course_code": "SP1"}
        )
        assert r.status_code == 201 and r.json()["status"] == "applied"
        ids.append(r.json()["id"])
    again = await env.client.post(
        "/v1/terms/2602/special-applications", headers=env.h("teacher", ce_number=a), json={"course_code": "SP1"}
    )
    assert again.json()["code"] == "already_applied"

    def decide(headers: dict[str, str], app_id: str, approve: bool = True) -> Any:
        return env.client.post(
            f"/v1/special-applications/{app_id}/decision", headers=headers, json={"approve": approve}
        )

    # Out of order: the institution cannot decide first; the district cannot either.
    assert (await decide(institution, ids[0])).json()["code"] == "not_your_review_step"
    assert (await decide(district, ids[0])).json()["code"] == "not_your_review_step"
    # Two reviewers of the school at once: one decision counts.
    both = await asyncio.gather(decide(school, ids[0]), decide(env.h("school_admin", school_id=SCHOOL), ids[0]))
    codes = sorted(r.status_code for r in both)
    assert codes[0] == 200 and codes[1] in (403, 409)  # decided meanwhile / no longer the school's step
    assert (await decide(district, ids[0])).json()["status"] == "district_approved"
    admitted = await decide(institution, ids[0])
    assert admitted.status_code == 200 and admitted.json()["status"] == "admitted"
    selection_id = admitted.json()["selection_id"]
    selection = await env.container.selection_repository.get(selection_id)
    assert selection is not None and selection["status"] == "active" and selection["selected_by"] == "institution"
    assert sorted(admitted.json()["reviews"]) == ["applied", "district_approved", "school_approved"]

    # The second applicant passes school and district, but the single place is taken.
    await decide(school, ids[1])
    await decide(district, ids[1])
    full = await decide(institution, ids[1])
    assert full.status_code == 409 and full.json()["code"] == "course_full"
    rejected = await decide(institution, ids[1], approve=False)
    assert rejected.json()["status"] == "rejected"
    assert (await decide(institution, ids[1])).json()["code"] == "application_decided"
    assert await env.container.selection_repository.count({"course_code": "SP1", "status": "active"}) == 1

    # Lists by scope.
    mine = await env.client.get("/v1/terms/2602/special-applications", headers=env.h("teacher", ce_number=b))
    assert [x["status"] for x in mine.json()] == ["rejected"]
    other_district = await env.client.get(
        "/v1/terms/2602/special-applications", headers=env.h("district_admin", district="荔湾区")
    )
    assert other_district.json() == []
    assert len((await env.client.get("/v1/terms/2602/special-applications", headers=institution)).json()) == 2
    stranger = env.h("institution", institution_id="inst-x")
    assert (await decide(stranger, ids[0])).status_code == 404
