"""The research-base programme across real processes (issue 15): the centre sets up a year, a zone
contact gets credentials by SMS, signs in and changes the password, submits a demand, gets a batch
(SMS and email), confirms a trainee; the trainee gets credentials by SMS, signs in, changes the
password, reports, checks in, writes a reflection and uploads an outcome; the archive shows it. The
initial secrets appear in notify's delivery log only masked."""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jijiao_stack.mailcatcher import read_messages
from jijiao_stack.pytest_plugin import RunningSystem, eventually

pytestmark = pytest.mark.e2e
CREDENTIALS = re.compile(r"账号为(?P<login>[\w-]+)，初始密码为(?P<password>[A-Za-z0-9]+)，")


def mobile() -> str:
    return f"137{random.randint(10_000_000, 99_999_999)}"


async def sms_to(system: RunningSystem, admin: str, to: str, containing: str) -> str:
    async def received() -> list[dict[str, Any]]:
        async with system.client("notify", admin) as notify:
            response = await notify.get("/v1/dev/sms", params={"to": to})
        texts = response.json() if response.status_code == 200 else []
        return [m for m in texts if containing in m["text"]]

    (message,) = await eventually(received, timeout=40)
    return str(message["text"])


async def sign_in_with_sms(system: RunningSystem, admin: str, to: str) -> tuple[str, str, str]:
    """Read the credentials SMS, sign in, change the password; returns (login, initial, token)."""
    match = CREDENTIALS.search(await sms_to(system, admin, to, "初始密码"))
    assert match is not None
    login, initial = match["login"], match["password"]
    first = await system.login(login, initial)
    async with system.client("baseline", first) as baseline:
        gated = await baseline.get("/v1/zones")
    assert gated.status_code == 403 and gated.json()["code"] == "password_change_required"
    new_password = f"New{uuid.uuid4().hex[:8]}9"
    async with system.client("enrollment", first) as enrollment:
        changed = await enrollment.post(
            "/v1/auth/password", json={"old_password": initial, "new_password": new_password}
        )
    assert changed.status_code in (200, 204), changed.text
    return login, initial, await system.login(login, new_password)


async def ok(client: Any, method: str, url: str, expect: int = 200, **kwargs: Any) -> Any:
    response = await client.request(method, url, **kwargs)
    assert response.status_code == expect, response.text
    return response.json() if response.content else None


async def test_a_year_of_the_research_base_programme(running_system: RunningSystem) -> None:
    system = running_system
    admin = await system.login("cityadmin", "jijiao-demo")  # reads the development SMS sink
    centre = await system.login("centreadmin", "jijiao-demo")
    first = random.randint(2200, 2900)
    year = f"{first}-{first + 1}"
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo("Asia/Shanghai")).date()
    zone_mobile, trainee_mobile = mobile(), mobile()
    zone_mail = f"zone-{uuid.uuid4().hex[:8]}@example.com"

    async with system.client("baseline", centre) as baseline:
        await ok(baseline, "POST", "/v1/years", 201, json={
            "year": year,
            "demand_deadline": (now + timedelta(days=10)).isoformat(),
            "personnel_deadline": (now + timedelta(days=20)).isoformat(),
            "report_deadline": (now + timedelta(days=30)).isoformat(),
        })  # fmt: skip
        base = await ok(baseline, "POST", "/v1/bases", 201, json={
            "name": f"研修基地{uuid.uuid4().hex[:6]}", "stage": "primary", "region": "北京",
            "contact": {"name": "基地联络员", "mobile": "13800000020"},
        })  # fmt: skip
        zone = await ok(baseline, "POST", "/v1/zones", 201, json={
            "name": f"实验区{uuid.uuid4().hex[:6]}", "contact": {"name": "刘联系人", "mobile": zone_mobile, "email": zone_mail},
        })  # fmt: skip
        batch = await ok(baseline, "POST", f"/v1/years/{year}/batches", 201, json={
            "base_id": base["id"], "starts_on": (today - timedelta(days=12)).isoformat(),
            "ends_on": today.isoformat(), "capacity": 2,
        })  # fmt: skip

    # The zone contact's login arrives by SMS; the first sign-in must change the password.
    zone_login, zone_initial, zone_token = await sign_in_with_sms(system, admin, zone_mobile)
    assert zone_login == f"zc-{zone['id']}"
    async with system.client("baseline", zone_token) as baseline:
        quota = await ok(baseline, "GET", f"/v1/years/{year}/quota")
        assert quota["remaining_demand_places"] == 35
        demand = {"stage": "primary", "places": 5, "purpose": "学习课程改革经验", "demand_type": "exchange"}
        await ok(baseline, "POST", f"/v1/years/{year}/demands", 201, json=demand)

    async with system.client("baseline", centre) as baseline:
        demands = await ok(baseline, "GET", f"/v1/years/{year}/demands")
        assert [d["zone_id"] for d in demands] == [zone["id"]]
        await ok(baseline, "POST", f"/v1/demands/{demands[0]['id']}/review", json={"approve": True})
        await ok(baseline, "POST", f"/v1/batches/{batch['id']}/allocations", 201, json={"demand_id": demands[0]["id"]})
    assert "已分配研修批次" in await sms_to(system, admin, zone_mobile, "已分配研修批次")

    async def mail() -> list[EmailMessage]:
        return [m for m in read_messages(system.mail_dir) if m["To"] == zone_mail]

    (message,) = await eventually(mail, timeout=40)
    assert message["Subject"] == "研修基地学习批次分配通知"

    trainees = f"/v1/batches/{batch['id']}/zones/{zone['id']}/trainees"
    async with system.client("baseline", zone_token) as baseline:
        trainee = await ok(baseline, "POST", trainees, 201, json={
            "name": "张研修", "gender": "female", "post": "教研组长", "mobile": trainee_mobile,
            "employer": "实验区第一小学", "subject": "数学", "role": "leader",
        })  # fmt: skip
        await ok(baseline, "POST", f"/v1/batches/{batch['id']}/zones/{zone['id']}/confirmation")

    trainee_login, trainee_initial, trainee_token = await sign_in_with_sms(system, admin, trainee_mobile)
    assert trainee_login == f"tr-{trainee['id']}"
    async with system.client("baseline", trainee_token) as baseline:
        assert (await ok(baseline, "POST", "/v1/me/report"))["reported"] is True
        assert (await ok(baseline, "POST", f"/v1/batches/{batch['id']}/check-in"))["checked_in"] is True
        reflection = {"kind": "reflection", "title": "跟岗第一周", "body_html": "<p>听课十二节，<b>收获很大</b>。</p>"}
        await ok(baseline, "POST", "/v1/me/reflections", 201, json=reflection)
        outcome = {"title": "校本教研改进方案", "summary": "回校后在区内分享", "shared_on": today.isoformat()}
        await ok(baseline, "POST", "/v1/me/outcome", 201, json=outcome)

    async with system.client("baseline", zone_token) as baseline:
        roster = await ok(baseline, "GET", trainees)
        assert roster["not_reported"] == []
    async with system.client("baseline", centre) as baseline:
        rows = await ok(baseline, "GET", f"/v1/years/{year}/archive")
    (row,) = rows
    assert (row["trainee_id"], row["reported"], row["checked_in"], row["reflections"], row["outcome_uploaded"]) == (
        trainee["id"], True, True, 1, True,
    )  # fmt: skip

    # notify's delivery log masks the initial secrets.
    async with system.client("notify", admin) as notify:
        for to, secret in ((zone_mobile, zone_initial), (trainee_mobile, trainee_initial)):
            log = (await notify.get("/v1/messages", params={"to": to})).json()
            credential = [m for m in log if "初始密码" in m["text"]]
            assert credential and all(secret not in m["text"] and "******" in m["text"] for m in credential)
