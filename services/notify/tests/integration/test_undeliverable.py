"""A notice with no address to go to is never dropped silently: it is stored failed (attempts 0, a
stable error code), shows in the delivery log (by subject: ``to`` is empty) and in the statistics, and
leaves as NoticeFailed; a redelivered cause adds nothing. Events go through the real broker."""

from __future__ import annotations

import json
from typing import Any

import aio_pika

from jijiao_contracts.enums import HourCategory
from jijiao_contracts.events.enrollment import ResultRegistered, SpecialUserFlagged, TeacherRegistered
from jijiao_stack.pytest_plugin import api_client, bearer, eventually, running
from notify.bootstrap import build
from notify.entrypoints.api.app import create_app
from notify.entrypoints.worker import create_worker, worker_container
from notify.settings import Settings


def settings(env: dict[str, Any]) -> Settings:
    return Settings(**env, quiet_hours_enabled=False, email_enabled=False, delivery_interval_seconds=0.05)


def unknown_teachers_result() -> ResultRegistered:
    return ResultRegistered(
        result_id="r1",
        term="2601",
        year=2026,
        ce_number="2026000901",
        school_id="s1",
        district="天河区",
        course_code="C1",
        course_name="课堂观察",
        programme="city",
        passed=True,
        category=HourCategory.PROFESSIONAL,
        hours=24,
        source="platform_course",
        registered_by="inst",
    )


async def test_notices_without_an_address_are_failed_visible_and_announced(
    settings_env: dict[str, Any], publish: Any, make_token: Any
) -> None:
    container = worker_container(settings(settings_env))
    worker = create_worker(container)
    connection = await aio_pika.connect(settings_env["rabbitmq_url"])
    async with connection, running(worker):
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True)
        exchange = await channel.get_exchange(container.settings.topology.events_exchange)
        await queue.bind(exchange, "notify.notice_failed.v1")
        # a teacher in the contact book without a mobile number (school s1), flagged (essential)
        no_mobile = TeacherRegistered(
            ce_number="2026000902",
            name="林老师",
            school_id="s1",
            school_name="天河一小",
            district="天河区",
            registered_year=2026,
        )
        await publish(worker, no_mobile, producer="enrollment")

        async def known() -> bool:
            return await container.contacts.get("teacher:2026000902") is not None

        await eventually(known)
        flagged = SpecialUserFlagged(
            ce_number="2026000902", term="2601", school_id="s1", name="林老师", course_codes=["C1"], times_flagged=1
        )
        flag = await publish(worker, flagged, producer="enrollment", times=2)
        # a result of a teacher nobody knows (non-essential, reaches nobody)
        result = await publish(worker, unknown_teachers_result(), producer="enrollment", times=2)
        keys = {
            f"{flag.event_id}:teacher:2026000902:sms",
            f"{result.event_id}:teacher:2026000901:sms",
        }
        events: dict[str, dict[str, Any]] = {}

        async def announced() -> bool:
            while (message := await queue.get(fail=False, no_ack=True)) is not None:
                payload = json.loads(message.body)["payload"]
                events[payload["notice_id"]] = payload
            return keys <= events.keys()

        await eventually(announced, timeout=20)
    flagged_event = events[f"{flag.event_id}:teacher:2026000902:sms"]
    assert (flagged_event["template"], flagged_event["attempts"], flagged_event["recipient"]) == (
        "special_user_flagged",
        0,
        "",
    )
    assert flagged_event["error"] == "no_address: teacher:2026000902 has no mobile number"
    assert events[f"{result.event_id}:teacher:2026000901:sms"]["error"].startswith("no_contact: ")
    for cause in (flag.event_id, result.event_id):  # delivered twice, recorded once
        assert await container.infra.db["messages"].count_documents({"cause_id": cause}) == 1
    assert await container.sink.count() == 0

    app = create_app(build(settings(settings_env)))
    async with api_client(app) as client:
        city = bearer(make_token("city_admin"))
        by_subject = await client.get("/v1/messages", params={"subject": "teacher:2026000902"}, headers=city)
        own_school = await client.get(
            "/v1/messages",
            params={"subject": "teacher:2026000902"},
            headers=bearer(make_token("school_admin", school_id="s1")),
        )
        other_school = await client.get(
            "/v1/messages",
            params={"subject": "teacher:2026000902"},
            headers=bearer(make_token("school_admin", school_id="s9")),
        )
        themself = await client.get(
            "/v1/messages",
            params={"subject": "teacher:2026000902"},
            headers=bearer(make_token("teacher", subject="teacher:2026000902")),
        )
        another = await client.get(
            "/v1/messages",
            params={"subject": "teacher:2026000902"},
            headers=bearer(make_token("teacher", subject="teacher:2026000903")),
        )
        unknown = await client.get("/v1/messages", params={"subject": "teacher:2026000901"}, headers=city)
        neither = await client.get("/v1/messages", headers=city)
        stats = await client.get("/v1/messages/stats", headers=city)
    assert by_subject.status_code == 200, by_subject.text
    failed = {m["template"]: m for m in by_subject.json()}
    assert set(failed) == {"special_user_flagged", "teacher_welcome"}  # the welcome reached nobody either
    entry = failed["special_user_flagged"]
    assert (entry["to"], entry["status"], entry["attempts"], entry["error_code"]) == ("", "failed", 0, "no_address")
    assert entry["errors"] == ["no_address: teacher:2026000902 has no mobile number"] and entry["failed_at"]
    assert entry["text"].startswith("【广州继教网】林老师老师，您在第2601期选课后")
    assert {m["id"] for m in own_school.json()} == {m["id"] for m in by_subject.json()}
    assert other_school.status_code == 200 and other_school.json() == []
    assert {m["id"] for m in themself.json()} == {m["id"] for m in by_subject.json()}
    assert another.status_code == 403 and another.json()["code"] == "messages_forbidden"
    [nobody] = unknown.json()
    assert (nobody["template"], nobody["error_code"], nobody["to"]) == ("result_passed", "no_contact", "")
    assert neither.status_code == 422 and neither.json()["code"] == "messages_filter_required"
    rows = {row["template"]: row for row in stats.json()["rows"]}
    assert rows["special_user_flagged"]["by_status"] == {"failed": 1}
    assert rows["result_passed"]["by_status"] == {"failed": 1}
