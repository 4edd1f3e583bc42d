"""Retries, final failures, quiet hours, rate limits and opt-outs against a real HTTP gateway."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jijiao_contracts.events.enrollment import SpecialUserFlagged
from jijiao_kit.clock import FixedClock
from jijiao_stack.pytest_plugin import api_client, bearer, eventually, running
from notify.bootstrap import build
from notify.domain.routing import Notice, Subject, Teacher
from notify.entrypoints.api.app import create_app
from notify.entrypoints.worker import create_worker, worker_container
from notify.settings import Settings

SH = ZoneInfo("Asia/Shanghai")


def http_settings(env: dict[str, Any], gateway: Any, **more: Any) -> Settings:
    values = {
        "sms_backend": "http",
        "sms_gateway_url": gateway.url,
        "quiet_hours_enabled": False,
        "retry_base_seconds": 0.05,
        "retry_max_seconds": 0.2,
        "delivery_interval_seconds": 0.05,
        # Retries are picked up by the delivery job's scan (every 5 s by default, since a scan passes
        # over the collection); at that pace three attempts took ~10 s of the test's 15 s.
        "delivery_scan_seconds": 0.05,
        **more,
    }
    return Settings(**env, **values)


def result_notice(ce_number: str = "2026000301", mobile: str = "13900000301") -> Notice:
    return Notice(
        "result_failed",
        Teacher(ce_number, mobile, "王老师"),
        {"course_name": "课堂观察", "term": "2601", "hours": "24"},
    )


async def test_gateway_failing_twice_then_succeeding_sends_once_with_three_attempts(
    settings_env: dict[str, Any], sms_gateway: Any, publish: Any, make_token: Any
) -> None:
    sms_gateway.script = [500, 503]
    container = worker_container(http_settings(settings_env, sms_gateway))
    worker = create_worker(container)
    event = SpecialUserFlagged(
        ce_number="2026000301",
        term="2601",
        school_id="s1",
        name="王老师",
        mobile="13900000301",
        course_codes=["C1"],
        times_flagged=1,
    )
    async with running(worker):
        envelope = await publish(worker, event, producer="enrollment")
        key = f"{envelope.event_id}:teacher:2026000301:sms"

        async def sent() -> dict[str, Any] | None:
            doc = await container.infra.db["messages"].find_one({"_id": key})
            return doc if doc and doc["status"] == "sent" and doc["outbox_pending"] == 0 else None

        doc = await eventually(sent, timeout=15)
    assert len(sms_gateway.requests) == 3
    assert len(sms_gateway.delivered) == 1
    assert sms_gateway.delivered[0]["mobile"] == "13900000301"
    assert sms_gateway.delivered[0]["client_ref"] == key
    assert doc["attempts"] == 3
    assert doc["errors"] == ["attempt 1: SMS gateway answered 500", "attempt 2: SMS gateway answered 503"]
    app = create_app(build(http_settings(settings_env, sms_gateway)))
    async with api_client(app) as client:
        log = await client.get("/v1/messages", params={"to": "13900000301"}, headers=bearer(make_token("city_admin")))
    [entry] = log.json()
    assert (entry["status"], entry["attempts"]) == ("sent", 3)


async def test_gateway_failing_always_ends_failed_and_visible(
    settings_env: dict[str, Any], sms_gateway: Any, make_token: Any
) -> None:
    sms_gateway.script = [500] * 20
    container = build(http_settings(settings_env, sms_gateway, delivery_max_attempts=4))
    assert await container.notifier.notify("cause-fail", result_notice()) == 1
    key = "cause-fail:teacher:2026000301:sms"

    async def finished() -> dict[str, Any] | None:
        await container.delivery.run_once()
        doc = await container.messages.get(key)
        return doc if doc and doc["status"] == "failed" else None

    doc = await eventually(finished, timeout=15, interval=0.05)
    assert doc["attempts"] == 4 and len(sms_gateway.requests) == 4
    assert doc["last_error"] == "SMS gateway answered 500"
    assert doc["failed_at"] is not None
    raw = await container.infra.db["messages"].find_one({"_id": key})
    assert raw is not None
    [failed_event] = raw["outbox"].values()  # NoticeFailed leaves with the state change
    assert failed_event["routing_key"] == "notify.notice_failed.v1" and '"attempts":4' in failed_event["body"]
    await container.delivery.run_once()
    assert len(sms_gateway.requests) == 4  # a failed notice is not retried again
    app = create_app(build(http_settings(settings_env, sms_gateway)))
    async with api_client(app) as client:
        log = await client.get("/v1/messages", params={"to": "13900000301"}, headers=bearer(make_token("city_admin")))
        stats = await client.get("/v1/messages/stats", headers=bearer(make_token("city_admin")))
    [entry] = log.json()
    assert (entry["status"], entry["attempts"], entry["last_error"]) == ("failed", 4, "SMS gateway answered 500")
    [row] = stats.json()["rows"]
    assert row["template"] == "result_failed" and row["by_status"] == {"failed": 1}
    await container.infra.close()


async def test_a_refused_number_fails_at_once(settings_env: dict[str, Any], sms_gateway: Any) -> None:
    sms_gateway.script = [400]
    container = build(http_settings(settings_env, sms_gateway))
    await container.notifier.notify("cause-400", result_notice())
    await container.delivery.run_once()
    doc = await container.messages.get("cause-400:teacher:2026000301:sms")
    assert doc is not None and doc["status"] == "failed" and doc["attempts"] == 1
    await container.infra.close()


async def test_slow_gateway_times_out_and_retries_without_holding_other_notices(
    settings_env: dict[str, Any], sms_gateway: Any
) -> None:
    sms_gateway.delay = 1.0
    container = build(http_settings(settings_env, sms_gateway, send_timeout_seconds=0.2, retry_base_seconds=30))
    await container.notifier.notify("cause-slow", result_notice())
    started = asyncio.get_running_loop().time()
    await container.delivery.run_once()
    assert asyncio.get_running_loop().time() - started < 0.9
    doc = await container.messages.get("cause-slow:teacher:2026000301:sms")
    assert doc is not None and doc["status"] == "pending" and doc["attempts"] == 1
    assert "timed out" in doc["last_error"]
    await container.infra.close()


async def test_quiet_hours_defer_non_urgent_notices_but_not_urgent_ones(
    settings_env: dict[str, Any], sms_gateway: Any
) -> None:
    night = datetime(2026, 3, 10, 23, 30, tzinfo=SH).astimezone(UTC)
    clock = FixedClock(night)
    container = build(http_settings(settings_env, sms_gateway, quiet_hours_enabled=True), clock=clock)
    await container.notifier.notify("cause-night", result_notice())
    locked = Notice("account_locked", Subject("account:9", "13900000399", "赵"), {"failed_attempts": 10})
    await container.notifier.notify("cause-locked", locked)
    await container.delivery.run_once()
    assert [r["mobile"] for r in sms_gateway.delivered] == ["13900000399"]  # urgent: at once
    doc = await container.messages.get("cause-night:teacher:2026000301:sms")
    morning = datetime(2026, 3, 11, 8, 0, tzinfo=SH).astimezone(UTC)
    assert doc is not None and doc["status"] == "pending"
    assert doc["deferred_until"] == morning
    clock.set(morning - timedelta(seconds=1))
    await container.delivery.run_once()
    assert len(sms_gateway.delivered) == 1
    clock.set(morning)
    await container.delivery.run_once()
    assert [r["mobile"] for r in sms_gateway.delivered] == ["13900000399", "13900000301"]
    await container.infra.close()


async def test_per_recipient_rate_limit_defers_the_excess(settings_env: dict[str, Any], sms_gateway: Any) -> None:
    clock = FixedClock(datetime(2026, 3, 10, 4, 0, tzinfo=UTC))
    container = build(http_settings(settings_env, sms_gateway, recipient_rate_per_hour=2), clock=clock)
    for index in range(3):
        await container.notifier.notify(f"cause-rate-{index}", result_notice())
    await container.delivery.run_once()
    assert len(sms_gateway.delivered) == 2
    [deferred] = [doc for doc in await container.infra.db["messages"].find({}).to_list() if doc["status"] == "pending"]
    assert deferred["deferred_reason"] == "rate_limited" and deferred["attempts"] == 0
    clock.advance(timedelta(minutes=61))
    await container.delivery.run_once()
    assert len(sms_gateway.delivered) == 3
    await container.infra.close()


async def test_opt_out_suppresses_non_essential_notices_only(
    settings_env: dict[str, Any], sms_gateway: Any, make_token: Any
) -> None:
    container = build(http_settings(settings_env, sms_gateway))
    await container.contacts.upsert(
        "teacher:2026000301",
        {"kind": "teacher", "name": "王老师", "mobile": "13900000301", "active": True},
        datetime.now(UTC),
    )
    token = make_token("teacher", subject="teacher:2026000301", mobile="13900000301")
    app = create_app(build(http_settings(settings_env, sms_gateway)))
    async with api_client(app) as client:
        response = await client.patch("/v1/contacts/me/opt-out", json={"sms": True}, headers=bearer(token))
        stranger = await client.patch(
            "/v1/contacts/me/opt-out", json={"sms": True}, headers=bearer(make_token("teacher", subject="teacher:x"))
        )
    assert response.status_code == 200, response.text
    assert response.json()["opt_out"] == {"sms": True, "email": False}
    assert stranger.status_code == 404 and stranger.json()["code"] == "contact_not_found"
    await container.notifier.notify("cause-optional", result_notice())
    flagged = Notice("special_user_flagged", Teacher("2026000301"), {"term": "2601"})
    await container.notifier.notify("cause-essential", flagged)
    await container.delivery.run_once()
    assert [r["content"][:20] for r in sms_gateway.delivered] == ["【广州继教网】王老师老师，您在第2601"]
    suppressed = await container.messages.get("cause-optional:teacher:2026000301:sms")
    assert suppressed is not None and suppressed["status"] == "suppressed"
    await container.infra.close()


async def test_worker_delivers_through_its_scheduled_job(settings_env: dict[str, Any], sms_gateway: Any) -> None:
    container = worker_container(http_settings(settings_env, sms_gateway))
    async with running(create_worker(container)):
        await container.notifier.notify("cause-job", result_notice())

        async def delivered() -> bool:
            return len(sms_gateway.delivered) == 1

        await eventually(delivered)


async def test_a_notice_whose_sender_died_is_sent_after_its_lease(
    settings_env: dict[str, Any], sms_gateway: Any
) -> None:
    clock = FixedClock(datetime(2026, 3, 10, 4, 0, tzinfo=UTC))
    container = build(
        http_settings(settings_env, sms_gateway, delivery_lease_seconds=60, delivery_scan_seconds=0), clock=clock
    )
    await container.notifier.notify("cause-crash", result_notice())
    key = "cause-crash:teacher:2026000301:sms"
    assert await container.messages.claim(key, clock.now(), clock.now() + timedelta(seconds=60)) is not None
    await container.delivery.drain()  # claimed by a "dead" sender: nothing happens within the lease
    assert sms_gateway.delivered == []
    clock.advance(timedelta(seconds=61))
    await container.delivery.drain()
    assert len(sms_gateway.delivered) == 1
    doc = await container.messages.get(key)
    assert doc is not None and doc["status"] == "sent"
    await container.infra.close()
