"""Events produced by the notify service."""

from __future__ import annotations

from typing import Literal

from jijiao_contracts.envelope import IntegrationEvent

PRODUCER = "notify"


class NoticeSent(IntegrationEvent):
    EVENT_TYPE = "notify.notice_sent"

    notice_id: str
    channel: Literal["sms", "email"]
    template: str
    recipient: str
    cause_event_id: str | None = None
    attempts: int


class NoticeFailed(IntegrationEvent):
    EVENT_TYPE = "notify.notice_failed"

    notice_id: str
    channel: Literal["sms", "email"]
    template: str
    recipient: str
    cause_event_id: str | None = None
    attempts: int
    error: str
