"""The hours bank tells teachers what changed: hours withdrawn by a corrected result, points redeemed
for hours, points expired at year end. Published through the real broker (the worker binds the keys
its routes name), read back from the development sink."""

from __future__ import annotations

from typing import Any

from jijiao_contracts.enums import HourCategory
from jijiao_contracts.events import hours as hr
from jijiao_contracts.events.enrollment import TeacherRegistered
from jijiao_stack.pytest_plugin import api_client, bearer, eventually, running
from notify.bootstrap import build
from notify.entrypoints.api.app import create_app
from notify.entrypoints.worker import create_worker, worker_container
from notify.settings import Settings

CE, MOBILE = "2026000701", "13900000701"


def settings(env: dict[str, Any], **more: Any) -> Settings:
    return Settings(**env, quiet_hours_enabled=False, email_enabled=False, delivery_interval_seconds=0.05, **more)


def adjusted(hours: float, reason: str) -> hr.HoursAdjusted:
    return hr.HoursAdjusted(
        entry_id=f"adj-{reason}",
        adjusts_entry_id="entry-1",
        ce_number=CE,
        year=2026,
        category=HourCategory.PROFESSIONAL,
        source="platform_course",
        hours=hours,
        reason=reason,
        reason_text="成绩更正为不合格，撤销该课程学时",
        reference={"kind": "result_correction", "result_id": "r1", "course_code": "C1", "course_name": "课堂观察"},
    )


async def test_hours_bank_events_reach_the_teacher_by_sms(
    settings_env: dict[str, Any], publish: Any, make_token: Any
) -> None:
    container = worker_container(settings(settings_env))
    worker = create_worker(container)
    routed = {"hours.hours_adjusted.v1", "hours.points_redeemed.v1", "hours.points_expired.v1"}
    assert routed <= set(worker.routing_keys)
    async with running(worker):
        await publish(
            worker,
            TeacherRegistered(
                ce_number=CE,
                name="陈晓明",
                school_id="s1",
                school_name="天河一小",
                district="天河区",
                mobile=MOBILE,
                registered_year=2026,
            ),
            producer="enrollment",
        )

        async def known() -> bool:
            return await container.contacts.get(f"teacher:{CE}") is not None

        await eventually(known)
        refill = await publish(worker, adjusted(8, "cap_room_freed"), producer="hours")
        causes = [
            await publish(worker, adjusted(-24, "result_revoked"), producer="hours", times=2),
            await publish(
                worker,
                hr.PointsRedeemed(
                    ce_number=CE, year=2026, category=HourCategory.ELECTIVE, hours=20, points=200, balance=1500
                ),
                producer="hours",
            ),
            await publish(worker, hr.PointsExpired(ce_number=CE, year=2026, points=1500), producer="hours"),
        ]

        async def all_sent() -> bool:
            docs = (
                await container.infra.db["messages"].find({"cause_id": {"$in": [c.event_id for c in causes]}}).to_list()
            )
            return len(docs) == 3 and all(d["status"] == "sent" for d in docs)

        await eventually(all_sent, timeout=15)
    assert await container.infra.db["messages"].count_documents({"cause_id": refill.event_id}) == 0

    app = create_app(build(settings(settings_env)))
    async with api_client(app) as client:
        response = await client.get(
            "/v1/dev/sms",
            params={"to": MOBILE},
            headers=bearer(make_token("teacher", subject=f"teacher:{CE}", mobile=MOBILE)),
        )
    assert response.status_code == 200, response.text
    by_id = {m["id"]: m for m in response.json()}
    texts = [by_id[f"{cause.event_id}:teacher:{CE}:sms"]["text"] for cause in causes]
    assert texts == [
        "【广州继教网】陈晓明老师，因成绩更正，您2026年度课程《课堂观察》的24学时已撤回，请登录平台查看学时记录。",
        "【广州继教网】陈晓明老师，您已使用200积分兑换20学时（个人选修科目），2026年度剩余1500积分。",
        "【广州继教网】陈晓明老师，您2026年度未兑换的1500积分已于年底过期清零。",
    ]
    assert len(by_id) == 4  # and the welcome
    sink = await container.sink.list_to(MOBILE)
    assert [doc["deliveries"] for doc in sink] == [1, 1, 1, 1]  # the redelivered withdrawal was sent once
