"""End to end on real processes (issue 14): a teacher shares resources in the research community
(studio), each first share earns through PointsFactRecorded, a duplicate earns nothing, the points reach
the teacher's balance in the hours bank with what they were for, and the teacher redeems them into an
hour of professional training."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from jijiao_stack import samples
from jijiao_stack.pytest_plugin import RunningSystem, eventually

pytestmark = pytest.mark.e2e

DEMO = "jijiao-demo"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_number() -> str:
    first = f"440106198{random.randint(0, 9)}0{random.randint(1, 9)}1{random.randint(0, 9)}{random.randint(100, 999)}"
    return first + _CHECK[sum(int(d) * w for d, w in zip(first, _WEIGHTS, strict=True)) % 11]


def pdf(n: int) -> bytes:
    """A distinct small PDF per ``n`` (a real one: the upload check parses it)."""
    return samples.pdf(f"{n}")


async def register_teacher(system: RunningSystem, admin: str, school_id: str, name: str) -> tuple[str, str]:
    number, mobile = id_number(), f"139{random.randint(10_000_000, 99_999_999)}"
    async with system.client("enrollment", admin) as client:
        created = await client.post(
            f"/v1/schools/{school_id}/teachers",
            json={"name": name, "id_number": number, "mobile": mobile, "subject": "语文", "stage": "primary"},
        )
    assert created.status_code == 201, created.text
    ce = created.json()["ce_number"]
    first = await system.login(ce, number[-6:])
    async with system.client("enrollment", first) as client:
        changed = await client.post(
            "/v1/auth/password", json={"old_password": number[-6:], "new_password": "Share2026x"}
        )
        assert changed.status_code == 204, changed.text
    return ce, await system.login(ce, "Share2026x")


async def test_shared_resources_earn_points_that_redeem_into_hours(running_system: RunningSystem) -> None:
    system = running_system
    admin = await system.login("cityadmin", DEMO)
    async with system.client("enrollment", admin) as client:
        school = (await client.get("/v1/schools")).json()[0]
    ce, teacher = await register_teacher(system, admin, school["id"], "周分享")
    year = datetime.now(UTC).year

    async with system.client("studio", teacher) as client:
        shared = [
            await client.post(
                "/v1/community/resources",
                data={"title": f"教学设计{n}"},
                files={"file": (f"design{n}.pdf", pdf(n), "application/pdf")},
            )
            for n in range(5)
        ]
        again = await client.post(
            "/v1/community/resources", data={"title": "重复"}, files={"file": ("again.pdf", pdf(0), "application/pdf")}
        )
        fake = await client.post(
            "/v1/community/resources", data={"title": "x"}, files={"file": ("x.pdf", b"<html>", "application/pdf")}
        )
    assert [r.status_code for r in shared] == [201] * 5, shared[0].text
    assert all(r.json()["earns"] for r in shared) and again.json()["earns"] is False
    assert fake.status_code == 415 and fake.json()["code"] == "upload_type"

    async def points() -> dict[str, Any] | None:
        async with system.client("hours", teacher) as client:
            response = await client.get(f"/v1/teachers/{ce}/years/{year}/points")
        body = response.json() if response.status_code == 200 else None
        return body if body and body["balance"] >= 100 else None

    account = await eventually(points, timeout=60)
    assert account["balance"] == 100
    awards = [e for e in account["entries"] if e["type"] == "award"]
    assert sorted(e["title"] for e in awards) == [f"教学设计{n}" for n in range(5)]
    assert {e["rule"] for e in awards} == {"shared_resource"}

    async with system.client("hours", teacher) as client:
        redeemed = await client.post(
            f"/v1/teachers/{ce}/years/{year}/redemptions", json={"category": "professional", "hours": 1}
        )
        hours = await client.get(f"/v1/teachers/{ce}/years/{year}/hours")
    assert redeemed.status_code == 201, redeemed.text
    assert redeemed.json()["balance"] == 0
    assert hours.status_code == 200 and hours.json()["total"] == 1, hours.text
