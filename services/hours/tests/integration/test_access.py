"""Who may do what, per role and scope, on the routes whose checks live in the service layer
(service_layer/access.py, jobs.py, teacher_points.py, rules.py, verification.py, registrations.py):
a refused request is a problem answer and leaves no trace."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from pypdf import PdfWriter

from hours.bootstrap import Container
from hours.service_layer.access import verification_scope
from jijiao_kit.auth import Principal
from jijiao_kit.errors import Forbidden
from jijiao_stack.pytest_plugin import bearer


def _pdf() -> bytes:
    """A real one-page PDF (uploads are checked by their whole structure)."""
    writer = PdfWriter()
    writer.add_blank_page(width=72, height=72)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


PDF = _pdf()


def tokens(make_token: Any) -> dict[str, dict[str, str]]:
    return {
        "city": bearer(make_token("city_admin")),
        "district": bearer(make_token("district_admin", district="天河区")),
        "other_district": bearer(make_token("district_admin", district="越秀区")),
        "school": bearer(make_token("school_admin", school_id="s1", district="天河区")),
        "other_school": bearer(make_token("school_admin", school_id="s3", district="越秀区")),
        "teacher": bearer(make_token("teacher", ce_number="2026000001", school_id="s1", district="天河区")),
        "other_teacher": bearer(make_token("teacher", ce_number="2026000004", school_id="s3", district="越秀区")),
        "centre": bearer(make_token("remote_centre")),
    }


def problem(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if code is not None:
        assert response.json()["code"] == code


@pytest.mark.parametrize("job", ["expire-points", "remind-expiring-points", "complete-pending"])
async def test_only_the_city_runs_jobs(client: httpx.AsyncClient, make_token: Any, job: str) -> None:
    who = tokens(make_token)
    for role in ("district", "school", "teacher", "centre"):
        problem(await client.post(f"/v1/admin/jobs/{job}", headers=who[role]), 403, "forbidden")
    assert (await client.post(f"/v1/admin/jobs/{job}", headers=who["city"])).status_code == 200


async def test_rules_and_complaint_period_are_the_citys(
    client: httpx.AsyncClient, make_token: Any, container: Container
) -> None:
    who = tokens(make_token)
    before = (await client.get("/v1/rules/2027", headers=who["teacher"])).json()
    period = {"opens_at": "2027-01-01T00:00:00Z", "closes_at": "2027-02-01T00:00:00Z"}
    for role in ("district", "school", "teacher"):
        problem(await client.put("/v1/rules/2027", json={"points_per_hour": 50}, headers=who[role]), 403)
        problem(await client.put("/v1/rules/2027/complaint-period", json=period, headers=who[role]), 403)
    assert await container.infra.db["rules"].count_documents({}) == 0  # refused: nothing stored
    assert (await client.get("/v1/rules/2027", headers=who["teacher"])).json() == before
    opened = await client.put("/v1/rules/2027/complaint-period", json=period, headers=who["city"])
    assert opened.status_code == 200 and opened.json()["complaint_period"]["opens_at"].startswith("2027-01-01")


async def test_cycles_are_configured_by_the_city_and_read_in_scope(
    client: httpx.AsyncClient, make_token: Any, container: Container
) -> None:
    who = tokens(make_token)
    body = {"name": "2026-2027", "start_year": 2026, "end_year": 2027}
    for role in ("district", "school", "teacher"):
        problem(await client.put("/v1/cycles/c1", json=body, headers=who[role]), 403, "forbidden")
    assert await container.infra.db["cycles"].count_documents({}) == 0
    assert (await client.put("/v1/cycles/c1", json=body, headers=who["city"])).status_code == 200
    seen = {}
    for role in ("city", "district", "other_district", "school"):
        response = await client.get("/v1/cycles/c1/verification", headers=who[role])
        assert response.status_code == 200, response.text
        seen[role] = sorted({row["ce_number"] for row in response.json()["rows"]})
    assert seen == {
        "city": ["2026000001", "2026000002", "2026000003", "2026000004"],
        "district": ["2026000001", "2026000002", "2026000003"],
        "other_district": ["2026000004"],
        "school": ["2026000001", "2026000002"],
    }
    problem(await client.get("/v1/cycles/c1/verification", headers=who["teacher"]), 403, "forbidden")
    narrowed = await client.get("/v1/cycles/c1/verification?school_id=s3", headers=who["school"])
    problem(narrowed, 403, "out_of_scope")


async def test_a_verification_run_covers_the_callers_scope_only(client: httpx.AsyncClient, make_token: Any) -> None:
    who = tokens(make_token)
    problem(await client.post("/v1/verifications/2026/run", headers=who["teacher"]), 403, "forbidden")
    counts = {}
    for role in ("city", "district", "school", "other_school"):
        response = await client.post("/v1/verifications/2026/run", headers=who[role])
        assert response.status_code == 200, response.text
        counts[role] = response.json()["teachers"]
    assert counts == {"city": 4, "district": 3, "school": 2, "other_school": 1}


async def test_points_are_read_in_scope_and_redeemed_by_their_teacher_only(
    client: httpx.AsyncClient, make_token: Any
) -> None:
    who = tokens(make_token)
    path = "/v1/teachers/2026000001/years/2026/points"
    for role in ("city", "district", "school", "teacher"):
        assert (await client.get(path, headers=who[role])).status_code == 200, role
    for role in ("other_district", "other_school", "other_teacher"):
        problem(await client.get(path, headers=who[role]), 404, "teacher_not_found")
    redeem = "/v1/teachers/2026000001/years/2026/redemptions"
    for role in ("city", "school", "other_teacher"):
        problem(await client.post(redeem, json={"category": "elective", "hours": 1}, headers=who[role]), 404)
    fact = {"ce_number": "2026000001", "year": 2026, "rule": "shared_resource", "reference": "acc-1"}
    for role in ("district", "school", "teacher"):
        problem(await client.post("/v1/points-registrations", json=fact, headers=who[role]), 403, "forbidden")
    account = (await client.get(path, headers=who["city"])).json()
    assert account["entries"] == [] and account["balance"] == 0  # refused registrations left nothing
    unknown = {**fact, "ce_number": "2026999999"}
    problem(await client.post("/v1/points-registrations", json=unknown, headers=who["centre"]), 404)
    assert (await client.post("/v1/points-registrations", json=fact, headers=who["centre"])).status_code == 201


async def test_proofs_are_uploaded_by_schools_and_the_city_only(
    client: httpx.AsyncClient, make_token: Any, container: Container
) -> None:
    who = tokens(make_token)
    files_dir = container.settings.attachments_dir
    for role in ("teacher", "district", "centre"):
        refused = await client.post("/v1/proofs", files={"file": ("p.pdf", PDF, "application/pdf")}, headers=who[role])
        problem(refused, 403, "forbidden")
    assert await container.infra.db["proofs"].count_documents({}) == 0
    assert not files_dir.exists() or not any(path.is_file() for path in files_dir.rglob("*"))  # no file kept
    stored = await client.post("/v1/proofs", files={"file": ("p.pdf", PDF, "application/pdf")}, headers=who["school"])
    assert stored.status_code == 201, stored.text
    assert stored.json()["content_type"] == "application/pdf"


def principal(*roles: str, **scope: Any) -> Principal:
    return Principal(subject="u", roles=frozenset(roles), name="测试", scopes=scope)


@pytest.mark.parametrize(
    ("who", "school", "expected"),
    [
        (principal("city_admin"), None, {"school_id": None, "district": None}),
        (principal("city_admin"), "s9", {"school_id": "s9", "district": None}),
        (principal("district_admin", district="天河区"), "s1", {"school_id": "s1", "district": "天河区"}),
        (principal("school_admin", school_id="s1"), None, {"school_id": "s1", "district": None}),
        (principal("principal", school_id="s1"), "s1", {"school_id": "s1", "district": None}),
    ],
)
def test_verification_scope(who: Principal, school: str | None, expected: dict[str, str | None]) -> None:
    assert verification_scope(who, school) == expected


@pytest.mark.parametrize(
    ("who", "school"),
    [
        (principal("school_admin", school_id="s1"), "s2"),
        (principal("teacher", ce_number="2026000001"), None),
        (principal("district_admin"), None),  # a district admin without a district covers nothing
        (principal("remote_centre"), None),
    ],
)
def test_verification_scope_refuses(who: Principal, school: str | None) -> None:
    with pytest.raises(Forbidden):
        verification_scope(who, school)
