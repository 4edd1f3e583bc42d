"""公告 through the API on the real store: who may publish to whom, who reads what, withdrawal."""

from __future__ import annotations

from typing import Any

from enrollment.bootstrap import build
from enrollment.entrypoints.api.app import create_app
from enrollment.settings import Settings
from jijiao_stack.pytest_plugin import api_client, bearer


async def test_announcements_reach_the_levels_below_within_scope(settings_env: dict[str, Any], make_token: Any) -> None:
    city = bearer(make_token("city_admin", subject="account:city"))
    tianhe = bearer(make_token("district_admin", subject="account:th", district="天河区"))
    haizhu = bearer(make_token("district_admin", subject="account:hz", district="海珠区"))
    s1_admin = bearer(make_token("school_admin", subject="account:s1", school_id="s1", district="天河区"))
    s2_admin = bearer(make_token("school_admin", subject="account:s2", school_id="s2", district="天河区"))
    s1_teacher = bearer(make_token("teacher", subject="teacher:1", ce_number="1", school_id="s1", district="天河区"))
    hz_teacher = bearer(make_token("teacher", subject="teacher:2", ce_number="2", school_id="s9", district="海珠区"))
    async with api_client(create_app(build(Settings(**settings_env)))) as client:

        async def publish(headers: dict[str, str], title: str, audiences: list[str]) -> Any:
            return await client.post(
                "/v1/announcements",
                json={"title": title, "body": f"{title}的内容", "audiences": audiences},
                headers=headers,
            )

        assert (
            await publish(city, "全市选课通知", ["district_admins", "school_admins", "teachers"])
        ).status_code == 201
        assert (await publish(tianhe, "天河区缴费提醒", ["school_admins"])).status_code == 201
        assert (await publish(tianhe, "天河区教师学习安排", ["teachers"])).status_code == 201
        s1_notice = await publish(s1_admin, "一小校本研修安排", ["teachers"])
        assert s1_notice.status_code == 201
        upward = await publish(tianhe, "给其他区", ["district_admins"])
        assert upward.status_code == 403 and upward.json()["code"] == "announcement_audience_forbidden"
        by_teacher = await publish(s1_teacher, "教师发布", ["teachers"])
        assert by_teacher.status_code == 403 and by_teacher.json()["code"] == "announcement_forbidden"
        empty = await client.post("/v1/announcements", json={"title": "x", "body": "y", "audiences": []}, headers=city)
        assert empty.status_code == 422

        async def titles(headers: dict[str, str]) -> list[str]:
            response = await client.get("/v1/announcements", headers=headers)
            assert response.status_code == 200, response.text
            return sorted(a["title"] for a in response.json())

        assert await titles(s1_teacher) == sorted(["全市选课通知", "天河区教师学习安排", "一小校本研修安排"])
        assert await titles(hz_teacher) == ["全市选课通知"]
        assert await titles(s1_admin) == sorted(["全市选课通知", "天河区缴费提醒", "一小校本研修安排"])  # + its own
        assert await titles(s2_admin) == sorted(["全市选课通知", "天河区缴费提醒"])
        assert await titles(haizhu) == ["全市选课通知"]
        assert len(await titles(city)) == 4

        notice_id = s1_notice.json()["id"]
        assert (await client.get(f"/v1/announcements/{notice_id}", headers=hz_teacher)).status_code == 404
        assert (await client.delete(f"/v1/announcements/{notice_id}", headers=s2_admin)).status_code == 404
        assert (await client.delete(f"/v1/announcements/{notice_id}", headers=s1_admin)).status_code == 204
        assert "一小校本研修安排" not in await titles(s1_teacher)


async def test_an_offset_past_64_bit_integers_is_refused(settings_env: dict[str, Any], make_token: Any) -> None:
    """``skip`` reaches the store as a 64-bit integer: 10**20 was a 500 (OverflowError in the driver)."""
    city = bearer(make_token("city_admin", subject="account:city"))
    async with api_client(create_app(build(Settings(**settings_env)))) as client:
        huge = await client.get("/v1/announcements", params={"skip": 10**20}, headers=city)
        far = await client.get("/v1/announcements", params={"skip": 1_000_000}, headers=city)
    assert huge.status_code == 422 and huge.json()["code"] == "validation_failed", huge.text
    assert far.status_code == 200 and far.json() == []
