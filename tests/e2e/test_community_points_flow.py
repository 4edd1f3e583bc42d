"""End to end on real processes (issue 14): a teacher shares resources in the research community
(studio), each first share earns through PointsFactRecorded, a duplicate earns nothing, the points reach
the teacher's balance in the hours bank with what they were for, and the teacher redeems them into an
hour of professional training."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from jijiao_stack import samples
from jijiao_stack.pytest_plugin import RunningSystem, eventually

pytestmark = pytest.mark.e2e

DEMO = "jijiao-demo"


def pdf(n: int) -> bytes:
    """A distinct small PDF per ``n`` (a real one: the upload check parses it)."""
    return samples.pdf(f"{n}")


async def test_shared_resources_earn_points_that_redeem_into_hours(running_system: RunningSystem) -> None:
    system = running_system
    admin = await system.login("cityadmin", DEMO)
    async with system.client("enrollment", admin) as client:
        school = (await client.get("/v1/schools")).json()[0]
    sharer = await system.register_teacher(admin, school["id"], "周分享", password="Share2026x")
    ce, teacher = sharer.ce_number, sharer.token
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
