"""Roster and accounts across real processes (DOMAIN §1): a school admin adds a teacher; the teacher
replaces the initial password and gets a changed mobile approved; another school of the district
applies for a transfer and the district admin approves it; the hours bank then scopes the teacher to
the new school, and notify learns the new mobile and texts the lockout and the unlock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from redis.asyncio import Redis

from jijiao_stack.pytest_plugin import RunningSystem, eventually, mobile

pytestmark = pytest.mark.e2e

DEMO = "jijiao-demo"


async def status_of(system: RunningSystem, service: str, path: str, token: str) -> int:
    async with system.client(service, token) as client:
        return (await client.get(path)).status_code


async def test_teacher_joins_changes_info_moves_school_and_other_services_follow(
    running_system: RunningSystem,
) -> None:
    system = running_system
    admin1 = await system.login("schooladmin", DEMO)
    admin2 = await system.login("schooladmin2", DEMO)
    district = await system.login("districtadmin", DEMO)
    async with system.client("enrollment", admin1) as client:
        (school1,) = (await client.get("/v1/schools")).json()

    # the teacher replaces the initial password (last six ID characters) and signs in again (by mobile)
    teacher = await system.register_teacher(admin1, school1["id"], "周敏", phone=mobile("137"), password="Zhoumin2026")
    ce = teacher.ce_number
    token = await system.login(teacher.mobile, "Zhoumin2026")

    # personal-info change: submit, school approves; notify's contact book follows TeacherChanged
    new_mobile = mobile("137")
    async with system.client("enrollment", token) as client:
        submitted = await client.put(f"/v1/teachers/{ce}/info-change", json={"mobile": new_mobile})
        assert submitted.status_code == 200, submitted.text
    async with system.client("enrollment", admin1) as client:
        approved = await client.post(f"/v1/teachers/{ce}/info-change/review", json={"approve": True})
        assert approved.status_code == 200 and approved.json()["mobile"] == new_mobile
    # a changed mobile ends the teacher's earlier sessions (token version, issue 12): sign in again
    async with system.client("notify", token) as client:
        assert (await client.get("/v1/contacts/me")).status_code == 401
    token = await system.login(new_mobile, "Zhoumin2026")

    async def contact_mobile() -> Any:
        async with system.client("notify", token) as client:
            response = await client.get("/v1/contacts/me")
        return response.status_code == 200 and response.json()["mobile"] == new_mobile

    await eventually(contact_mobile, timeout=30, interval=0.3)

    # transfer within the district: the receiving school applies, the district admin approves
    async with system.client("enrollment", admin2) as client:
        (school2,) = (await client.get("/v1/schools")).json()
        applied = await client.post(f"/v1/schools/{school2['id']}/transfers", json={"ce_number": ce, "name": "周敏"})
        assert applied.status_code == 201, applied.text
        assert applied.json()["approver_level"] == "district"
    async with system.client("enrollment", district) as client:
        queue = (await client.get("/v1/transfers", params={"awaiting_me": True})).json()
        assert applied.json()["id"] in {t["id"] for t in queue}
        decided = await client.post(f"/v1/transfers/{applied.json()['id']}/approve")
        assert decided.status_code == 200 and decided.json()["status"] == "approved"

    # lockout and unlock by the new school's admin; notify texts both to the teacher's new mobile. From
    # the third wrong password on, each try needs an image code (read as a person reads the image).
    redis = Redis.from_url(system.redis_url, decode_responses=True)
    async with system.client("enrollment") as client:
        codes = []
        for _ in range(10):
            body: dict[str, Any] = {"login": ce, "password": "wrong-one"}
            response = await client.post("/v1/auth/token", json=body)
            if response.status_code == 400 and response.json()["code"] == "captcha_required":
                captcha_id = (await client.post("/v1/auth/captcha")).json()["id"]
                answer = await redis.get(f"{system.name_prefix}:enrollment:captcha:{captcha_id}")
                body |= {"captcha_id": captcha_id, "captcha_answer": answer}
                response = await client.post("/v1/auth/token", json=body)
            codes.append(response.status_code)
    await redis.aclose()
    assert codes == [401] * 9 + [423]
    async with system.client("enrollment", admin1) as client:
        assert (await client.post(f"/v1/teachers/{ce}/unlock")).status_code == 403  # not their school any more
    async with system.client("enrollment", admin2) as client:
        locked = (await client.get(f"/v1/schools/{school2['id']}/locked-users")).json()
        assert [u["login"] for u in locked] == [ce]
        assert (await client.post(f"/v1/teachers/{ce}/unlock")).status_code == 204
    assert await system.login(ce, "Zhoumin2026")

    city = await system.login("cityadmin", DEMO)

    async def texts() -> Any:
        async with system.client("notify", city) as client:
            listed = (await client.get("/v1/dev/sms", params={"to": new_mobile})).json()
        found = [m["text"] for m in listed]
        wanted = ("锁定", "已解锁", "个人信息修改已通过")  # the approval of the change is an application decision
        return found if all(any(word in t for t in found) for word in wanted) else None

    await eventually(texts, timeout=30, interval=0.3)

    # the hours bank scopes the teacher to the new school once it applied TeacherTransferred
    year = datetime.now(UTC).year
    hours_path = f"/v1/teachers/{ce}/years/{year}/hours"

    async def hours_follow_the_move() -> bool:
        return (
            await status_of(system, "hours", hours_path, admin2) == 200
            and await status_of(system, "hours", hours_path, admin1) == 404
        )

    await eventually(hours_follow_the_move, timeout=30, interval=0.5)
