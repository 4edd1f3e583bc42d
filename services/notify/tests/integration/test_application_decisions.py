"""Application decisions (§9 "application decisions"): a personal-information change returned by the
school reaches the teacher with its reason; a transfer refused by a rule reaches the administrators of
the receiving school, which applied; a school-based course declaration's review reaches the declaring
school; once each, however often the event is delivered."""

from __future__ import annotations

import asyncio
from typing import Any

from jijiao_contracts.events.enrollment import (
    AdminRegistered,
    InfoChangeReviewed,
    SchoolCourseRejected,
    TransferDecided,
)
from jijiao_stack.pytest_plugin import eventually, running
from notify.entrypoints.worker import create_worker, worker_container
from notify.settings import Settings


def school_admin(n: int, name: str, school_id: str) -> AdminRegistered:
    return AdminRegistered(
        subject=f"account:a{n}",
        username=f"sa{n}",
        name=name,
        mobile=f"1370000000{n}",
        roles=["school_admin"],
        school_id=school_id,
        district="天河区",
    )


def settings(env: dict[str, Any]) -> Settings:
    return Settings(**env, quiet_hours_enabled=False, email_enabled=False, delivery_interval_seconds=0.05)


async def test_returned_info_change_and_refused_transfer_reach_who_applied(
    settings_env: dict[str, Any], publish: Any
) -> None:
    container = worker_container(settings(settings_env))
    worker = create_worker(container)
    receiving_admin = school_admin(2, "王校长", "s2")
    returned = InfoChangeReviewed(
        ce_number="2026000101",
        name="陈晓明",
        school_id="s1",
        approved=False,
        reason="职称证书未上传",
        mobile="13900000101",
    )
    refused = TransferDecided(
        transfer_id="t1",
        ce_number="2026000101",
        teacher_name="陈晓明",
        from_school_id="s1",
        to_school_id="s2",
        to_school_name="天河二小",
        approved=False,
        refusal="unpaid_selections",
    )
    async with running(worker):
        await publish(worker, receiving_admin, producer="enrollment")
        await eventually(lambda: container.contacts.get("account:a2"))
        await publish(worker, returned, producer="enrollment", times=2)
        await publish(worker, refused, producer="enrollment", times=2)

        async def both_arrived() -> bool:
            return bool(await container.sink.list_to("13900000101")) and bool(
                await container.sink.list_to("13700000002")
            )

        await eventually(both_arrived, timeout=15)
        await asyncio.sleep(0.5)  # give a duplicate the chance to show
    (to_teacher,) = await container.sink.list_to("13900000101")
    (to_school,) = await container.sink.list_to("13700000002")
    assert "个人信息修改被学校退回" in to_teacher["text"] and "职称证书未上传" in to_teacher["text"]
    assert to_teacher["deliveries"] == 1 and to_school["deliveries"] == 1
    assert "王校长您好" in to_school["text"] and "天河二小" in to_school["text"]
    assert "该教师有往期未缴费的选课" in to_school["text"]
    await container.infra.close()


async def test_rejected_school_course_reaches_the_declaring_school(settings_env: dict[str, Any], publish: Any) -> None:
    container = worker_container(settings(settings_env))
    worker = create_worker(container)
    admin = school_admin(1, "李主任", "s1")
    rejected = SchoolCourseRejected(
        term="2601", school_id="s1", course_code="S1", name="课堂观察", comment="请补充计划"
    )
    async with running(worker):
        await publish(worker, admin, producer="enrollment")
        await eventually(lambda: container.contacts.get("account:a1"))
        await publish(worker, rejected, producer="enrollment", times=2)
        await eventually(lambda: container.sink.list_to("13700000001"), timeout=15)
        await asyncio.sleep(0.5)
    (sms,) = await container.sink.list_to("13700000001")
    assert "校本课程《课堂观察》" in sms["text"] and "请补充计划" in sms["text"] and sms["deliveries"] == 1
    await container.infra.close()
