"""Building notice documents is pure (clock and settings in, documents out): keys, quiet hours,
opt-outs, redaction, sizes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jijiao_kit.clock import FixedClock
from notify.domain.templates import template
from notify.service_layer.delivery import DeliveryService
from notify.service_layer.notices import Notifier, Recipient, idempotency_key
from notify.settings import Settings

SH = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=SH).astimezone(UTC)
NIGHT = datetime(2026, 3, 10, 23, 0, tzinfo=SH).astimezone(UTC)
TEACHER = Recipient(subject="teacher:1", name="陈晓明", mobile="13900000001", email="c@example.com", school_id="s1")


def notifier(at: datetime, **settings: Any) -> Notifier:
    return Notifier(None, None, FixedClock(at), Settings(**settings))  # type: ignore[arg-type]


def test_one_document_per_channel_keyed_by_cause_recipient_and_channel() -> None:
    docs = notifier(NOON).build(
        "ev-1", template("teacher_welcome"), TEACHER, {"school_name": "一小", "ce_number": "1"}, ("sms", "email")
    )
    assert [d["_id"] for d in docs] == ["ev-1:teacher:1:sms", "ev-1:teacher:1:email"]
    assert idempotency_key("ev-1", "teacher:1", "sms") == docs[0]["_id"]
    sms, mail = docs
    assert "send" not in sms and sms["text"].startswith(
        "【广州继教网】陈晓明老师您好"
    )  # nothing masked: sent as logged
    assert DeliveryService._outgoing(sms).text == sms["text"]
    assert (sms["length"], sms["segments"]) == (len(sms["text"]), 1)
    assert mail["email_subject"] == "欢迎加入继续教育平台" and "send" not in mail
    outgoing = DeliveryService._outgoing(mail)
    assert (outgoing.subject, outgoing.text) == ("欢迎加入继续教育平台", mail["text"])
    assert all(d["status"] == "pending" and d["due_ts"] == NOON.timestamp() for d in docs)
    assert sms["day"] == "2026-03-10" and sms["stat_key"] == "2026-03-10|teacher_welcome|sms"


def test_sms_only_templates_make_no_email() -> None:
    values = {"course_name": "课", "term": "2601", "hours": "1"}
    docs = notifier(NOON).build("ev", template("result_failed"), TEACHER, values, ("sms", "email"))
    assert [d["channel"] for d in docs] == ["sms"]


def test_a_notice_that_reaches_nobody_is_recorded_failed_with_its_event() -> None:
    values = {"course_name": "课", "term": "2601", "hours": "1"}
    no_mobile = Recipient(subject="teacher:2", name="李", email="l@example.com", school_id="s1")
    [doc] = notifier(NOON).build("ev", template("result_failed"), no_mobile, values)  # SMS only: reaches nobody
    assert doc["_id"] == "ev:teacher:2:sms" and (doc["to"], doc["status"], doc["attempts"]) == ("", "failed", 0)
    assert doc["error_code"] == "no_address" and doc["last_error"] == "no_address: teacher:2 has no mobile number"
    assert doc["errors"] == [doc["last_error"]] and doc["due_ts"] is None and doc["school_id"] == "s1"
    assert doc["text"].startswith("【广州继教网】李老师") and doc["stat_key"] == "2026-03-10|result_failed|sms"
    [event] = doc["outbox"].values()
    assert doc["outbox_pending"] == 1 and event["routing_key"] == "notify.notice_failed.v1"
    assert '"attempts":0' in event["body"] and "no_address" in event["body"]


def test_missing_channels_of_essential_notices_fail_and_of_others_only_when_nothing_reaches() -> None:
    mobile_only = Recipient(subject="account:1", name="管理员", mobile="13700000001")
    bill = {
        "school_name": "一小",
        "term": "2601",
        "bill_number": "B-1",
        "payee": "中心",
        "teacher_count": 1,
        "amount": "1.00",
        "due_at": "x",
    }
    docs = notifier(NOON).build("ev", template("bill_issued"), mobile_only, bill, ("sms", "email"))
    assert [(d["channel"], d["status"]) for d in docs] == [("sms", "pending"), ("email", "failed")]
    welcome = {"school_name": "一小", "ce_number": "1"}
    docs = notifier(NOON).build("ev", template("teacher_welcome"), mobile_only, welcome, ("sms", "email"))
    assert [(d["channel"], d["status"]) for d in docs] == [("sms", "pending")]
    nobody = Recipient(subject="teacher:9", known=False)
    docs = notifier(NOON).build("ev", template("teacher_welcome"), nobody, welcome, ("sms", "email"))
    assert [(d["channel"], d["status"], d["error_code"]) for d in docs] == [
        ("sms", "failed", "no_contact"),
        ("email", "failed", "no_contact"),
    ]
    opted_out = Recipient(subject="teacher:8", opt_out={"sms": True})
    assert (
        notifier(NOON).build("ev", template("result_failed"), opted_out, {**bill, "course_name": "课", "hours": 1})
        == []
    )


def test_quiet_hours_defer_only_non_urgent_notices() -> None:
    deferred = notifier(NIGHT).build(
        "ev", template("result_passed"), TEACHER, {"course_name": "课", "term": "1", "hours": "2"}
    )[0]
    morning = datetime(2026, 3, 11, 8, 0, tzinfo=SH).astimezone(UTC)
    assert deferred["deferred_until"] == morning and deferred["due_ts"] == morning.timestamp()
    urgent = notifier(NIGHT).build("ev", template("account_locked"), TEACHER, {"failed_attempts": 10})[0]
    assert urgent["deferred_until"] is None and urgent["due_ts"] == NIGHT.timestamp()
    off = notifier(NIGHT, quiet_hours_enabled=False).build(
        "ev", template("result_passed"), TEACHER, {"course_name": "课", "term": "1", "hours": "2"}
    )[0]
    assert off["deferred_until"] is None


def test_opt_out_suppresses_non_essential_only() -> None:
    opted = Recipient(subject="teacher:1", name="陈", mobile="139", opt_out={"sms": True})
    optional = notifier(NOON).build(
        "ev", template("result_failed"), opted, {"course_name": "课", "term": "1", "hours": "1"}
    )[0]
    assert optional["status"] == "suppressed" and "send" not in optional and optional["due_ts"] is None
    essential = notifier(NOON).build("ev", template("special_user_flagged"), opted, {"term": "2601"})[0]
    assert essential["status"] == "pending"


def test_verification_codes_are_masked_in_the_log_text() -> None:
    values = {"code": "987654", "purpose_label": "导出敏感数据", "minutes": 5}
    doc = notifier(NOON).build("verification:v1", template("verification_code"), TEACHER, values)[0]
    assert "987654" not in doc["text"] and "******" in doc["text"]
    assert "987654" in doc["send"]["text"]
    assert DeliveryService._outgoing(doc).text == doc["send"]["text"]
