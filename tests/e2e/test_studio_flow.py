"""End to end on real processes (issue 13): a studio is founded for a registered teacher, a teacher
applies and is admitted in round 1, an offline activity is published, the member checks in with the
QR code's token, the host writes the summary, the hours reach the hours bank and the decision SMS is in
notify's log."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from jijiao_stack.pytest_plugin import RunningSystem, eventually

pytestmark = pytest.mark.e2e

_extra = os.environ.get("JIJIAO_E2E_ENV", "")
if "QUIET_HOURS_ENABLED" not in _extra:
    os.environ["JIJIAO_E2E_ENV"] = ",".join(part for part in (_extra, "QUIET_HOURS_ENABLED=false") if part)

DEMO = "jijiao-demo"


def iso(value: datetime) -> str:
    return value.isoformat()


async def test_studio_recruitment_checkin_summary_hours_and_sms(running_system: RunningSystem) -> None:
    system = running_system
    admin = await system.login("cityadmin", DEMO)
    async with system.client("enrollment", admin) as client:
        school = (await client.get("/v1/schools")).json()[0]
    host_teacher = await system.register_teacher(admin, school["id"], "陈主持", password="Studio2026x")
    member_teacher = await system.register_teacher(admin, school["id"], "林成员", password="Studio2026x")
    host_ce, host = host_teacher.ce_number, host_teacher.token
    member_ce, member_mobile, member = member_teacher.ce_number, member_teacher.mobile, member_teacher.token
    now = datetime.now(UTC)
    year = now.year

    async def found() -> httpx.Response | None:
        async with system.client("studio", admin) as client:
            response = await client.post(
                "/v1/studios",
                json={
                    "name": "陈主持名教师工作室",
                    "type": "teacher",
                    "host_ce_number": host_ce,
                    "cycle_start_year": year,
                },
            )
        return response if response.status_code == 201 else None  # until the directory has the host

    studio = (await eventually(found, timeout=30)).json()
    sid = studio["id"]
    opens = now + timedelta(seconds=20)
    windows = {
        "cycle_start_year": year,
        "apply": {"start": iso(now - timedelta(hours=1)), "end": iso(opens)},
        "rounds": [
            {"start": iso(opens), "end": iso(opens + timedelta(hours=1))},
            {"start": iso(opens + timedelta(hours=1)), "end": iso(opens + timedelta(hours=2))},
            {"start": iso(opens + timedelta(hours=2)), "end": iso(opens + timedelta(hours=3))},
        ],
    }
    async with system.client("studio", admin) as client:
        recruitment = await client.post("/v1/recruitments", json=windows)
    assert recruitment.status_code == 201, recruitment.text
    form = {
        "stage": "小学",
        "subject": "语文",
        "title": "一级教师",
        "age": 36,
        "teaching_years": 13,
        "papers": ["论文一"],
    }
    async with system.client("studio", member) as client:
        applied = await client.post(
            f"/v1/recruitments/{recruitment.json()['id']}/applications",
            json={"role": "member", "preferences": [sid], "form": form},
        )
    assert applied.status_code == 201, applied.text

    async def admit() -> httpx.Response | None:  # round 1 opens a few seconds after the application window
        async with system.client("studio", host) as client:
            response = await client.post(
                f"/v1/studios/{sid}/applications/{applied.json()['id']}/decision", json={"decision": "admitted"}
            )
        return response if response.status_code != 409 or response.json()["code"] != "not_in_review" else None

    admitted = await eventually(admit, timeout=40, interval=1.0)
    assert admitted.status_code == 200, admitted.text
    async with system.client("studio", host) as client:
        bench = (await client.get("/v1/studios", params={"hosted_by": "me"})).json()
        stage = (await client.post(f"/v1/studios/{sid}/stages", json={"name": "第一阶段"})).json()
        activity = await client.post(
            f"/v1/studios/{sid}/activities",
            json={
                "stage_id": stage["id"],
                "mode": "offline",
                "type": "school_sending",
                "title": "送教到校",
                "place": "一小报告厅",
                "hours": 4,
                "starts_at": iso(now - timedelta(hours=3)),
                "ends_at": iso(now - timedelta(hours=1)),
                "options": {"checkin": {"required": True}},
            },
        )
        assert activity.status_code == 201, activity.text
        base = f"/v1/studios/{sid}/activities/{activity.json()['id']}"
        assert (await client.post(f"{base}/publish")).status_code == 200
        token = (await client.post(f"{base}/checkin-token")).json()["token"]
        qr = await client.get(f"{base}/checkin-qr.png")
    assert [b["counts"]["members"] for b in bench] == [1]
    assert qr.content.startswith(b"\x89PNG")
    async with system.client("studio", member) as client:
        checked = await client.post(f"{base}/checkins", json={"token": token})
        again = await client.post(f"{base}/checkins", json={"token": token})
    assert checked.status_code == 201, checked.text
    assert again.status_code == 409 and again.json()["code"] == "already_checked_in"
    async with system.client("studio", host) as client:
        summary = await client.post(f"{base}/summary", json={"text": "送教到校活动顺利完成。"})
    assert summary.status_code == 200 and summary.json()["credited"] == [member_ce], summary.text

    async def hours(ce: str) -> dict[str, Any] | None:
        async with system.client("hours", admin) as client:
            response = await client.get(f"/v1/teachers/{ce}/years/{year}/hours")
        body = response.json() if response.status_code == 200 else None
        return body if body and body["total"] > 0 else None

    assert (await eventually(lambda: hours(member_ce), timeout=30))["total"] == 4
    assert (await eventually(lambda: hours(host_ce), timeout=30))["total"] == 4

    async def sms() -> list[dict[str, Any]]:
        async with system.client("notify", admin) as client:
            response = await client.get("/v1/dev/sms", params={"to": member_mobile})
        texts = response.json() if response.status_code == 200 else []
        return [m for m in texts if "工作室" in m["text"] and "已录取" in m["text"]]

    (decision_sms,) = await eventually(sms, timeout=30)
    assert "陈主持名教师工作室（第1志愿，成员）的审核结果：已录取" in decision_sms["text"]
