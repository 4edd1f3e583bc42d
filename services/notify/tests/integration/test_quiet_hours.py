"""Quiet hours hold on every (re)scheduling of a non-urgent notice, not only when it is created: a
rate-limit deferral, a retry after a provider error, a lease released after its sender died, notices
given back at shutdown, and a notice that was due before 22:00 but is taken after. Urgent notices
(codes, account locked) never wait. Driven by a hand-moved clock against a real HTTP gateway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jijiao_kit.clock import FixedClock
from notify.bootstrap import build
from notify.domain.routing import Notice, Subject, Teacher
from notify.domain.schedule import as_utc
from notify.settings import Settings

SH = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2026, 3, 11, 8, 0, tzinfo=SH).astimezone(UTC)


def sh(hour: int, minute: int = 0, second: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=SH).astimezone(UTC)


def quiet_settings(env: dict[str, Any], gateway: Any, **more: Any) -> Settings:
    values = {
        "sms_backend": "http",
        "sms_gateway_url": gateway.url,
        "quiet_hours_enabled": True,
        "delivery_scan_seconds": 0,
        **more,
    }
    return Settings(**env, **values)


def result_notice(mobile: str = "13900000501") -> Notice:
    return Notice(
        "result_failed",
        Teacher("2026000501", mobile, "王老师"),
        {"course_name": "课堂观察", "term": "2601", "hours": "24"},
    )


LOCKED = Notice("account_locked", Subject("account:5", "13900000599", "赵"), {"failed_attempts": 10})
RESULT_KEY = "cause-result:teacher:2026000501:sms"
LOCKED_KEY = "cause-locked:account:5:sms"


async def raw(container: Any, key: str) -> dict[str, Any]:
    doc: dict[str, Any] | None = await container.infra.db["messages"].find_one({"_id": key})
    assert doc is not None
    return doc


async def test_a_rate_limit_deferral_into_quiet_hours_waits_until_morning(
    settings_env: dict[str, Any], sms_gateway: Any
) -> None:
    clock = FixedClock(sh(21, 30))
    container = build(quiet_settings(settings_env, sms_gateway, recipient_rate_per_hour=2), clock=clock)
    for index in range(3):
        await container.notifier.notify(f"cause-rate-{index}", result_notice())
    await container.delivery.run_once()
    assert len(sms_gateway.delivered) == 2
    [deferred] = [doc for doc in await container.infra.db["messages"].find({}).to_list() if doc["status"] == "pending"]
    # the window frees a slot at 22:30, inside quiet hours: the notice waits for 08:00
    assert deferred["deferred_reason"] == "rate_limited"
    assert deferred["due_ts"] == MORNING.timestamp() and as_utc(deferred["deferred_until"]) == MORNING
    clock.set(sh(22, 31))
    await container.delivery.run_once()
    assert len(sms_gateway.delivered) == 2
    clock.set(MORNING)
    await container.delivery.run_once()
    assert len(sms_gateway.delivered) == 3
    await container.infra.close()


async def test_a_retry_that_falls_in_quiet_hours_waits_but_an_urgent_one_does_not(
    settings_env: dict[str, Any], sms_gateway: Any
) -> None:
    sms_gateway.script = [500, 500]
    clock = FixedClock(sh(21, 59, 50))
    container = build(
        quiet_settings(settings_env, sms_gateway, retry_base_seconds=30, retry_max_seconds=60), clock=clock
    )
    await container.notifier.notify("cause-result", result_notice())
    await container.notifier.notify("cause-locked", LOCKED)
    await container.delivery.run_once()
    assert len(sms_gateway.requests) == 2 and sms_gateway.delivered == []
    retried = await raw(container, RESULT_KEY)
    assert (retried["status"], retried["attempts"]) == ("pending", 1)
    assert retried["due_ts"] == MORNING.timestamp() and as_utc(retried["next_attempt_at"]) == MORNING
    urgent = await raw(container, LOCKED_KEY)
    assert urgent["status"] == "pending" and sh(22, 0) < as_utc(urgent["next_attempt_at"]) < sh(22, 1)
    clock.set(sh(22, 5))
    await container.delivery.run_once()
    assert [r["mobile"] for r in sms_gateway.delivered] == ["13900000599"]
    clock.set(MORNING)
    await container.delivery.run_once()
    assert [r["mobile"] for r in sms_gateway.delivered] == ["13900000599", "13900000501"]
    await container.infra.close()


async def test_a_lease_released_in_quiet_hours_is_due_in_the_morning(
    settings_env: dict[str, Any], sms_gateway: Any
) -> None:
    clock = FixedClock(sh(21, 59))
    container = build(quiet_settings(settings_env, sms_gateway, delivery_lease_seconds=60), clock=clock)
    await container.notifier.notify("cause-result", result_notice())
    await container.notifier.notify("cause-locked", LOCKED)
    for key in (RESULT_KEY, LOCKED_KEY):  # taken by a sender that then died
        assert await container.messages.claim(key, clock.now(), clock.now() + timedelta(seconds=60)) is not None
    clock.set(sh(23, 0))
    await container.delivery.drain()
    assert [r["mobile"] for r in sms_gateway.delivered] == ["13900000599"]  # urgent: released and sent at once
    released = await raw(container, RESULT_KEY)
    assert released["status"] == "pending" and released["due_ts"] == MORNING.timestamp()
    assert "claim" not in released  # released straight to the morning, not taken again in the night
    clock.set(MORNING)
    await container.delivery.drain()
    assert [r["mobile"] for r in sms_gateway.delivered] == ["13900000599", "13900000501"]
    await container.infra.close()


async def test_notices_given_back_at_shutdown_in_quiet_hours_are_due_in_the_morning(
    settings_env: dict[str, Any], sms_gateway: Any
) -> None:
    clock = FixedClock(sh(21, 59))
    container = build(quiet_settings(settings_env, sms_gateway), clock=clock)
    container.notifier.handover = container.delivery.handover  # as in the worker: inserted claimed, in memory
    await container.notifier.notify("cause-result", result_notice())
    await container.notifier.notify("cause-locked", LOCKED)
    clock.set(sh(23, 0))
    assert await container.delivery.release_handed() == 2
    given_back = await raw(container, RESULT_KEY)
    assert given_back["status"] == "pending" and given_back["due_ts"] == MORNING.timestamp()
    urgent = await raw(container, LOCKED_KEY)
    assert urgent["status"] == "pending" and urgent["due_ts"] == sh(23, 0).timestamp()
    await container.infra.close()


async def test_a_notice_due_before_quiet_hours_but_taken_in_them_waits(
    settings_env: dict[str, Any], sms_gateway: Any
) -> None:
    clock = FixedClock(sh(21, 59, 59))
    container = build(quiet_settings(settings_env, sms_gateway), clock=clock)
    await container.notifier.notify("cause-result", result_notice())
    await container.notifier.notify("cause-locked", LOCKED)
    clock.set(sh(22, 0, 1))
    await container.delivery.run_once()
    assert [r["mobile"] for r in sms_gateway.delivered] == ["13900000599"]
    held = await raw(container, RESULT_KEY)
    assert held["status"] == "pending" and held["deferred_reason"] == "quiet_hours"
    assert held["due_ts"] == MORNING.timestamp() and held["attempts"] == 0
    clock.set(MORNING)
    await container.delivery.run_once()
    assert len(sms_gateway.delivered) == 2
    await container.infra.close()
