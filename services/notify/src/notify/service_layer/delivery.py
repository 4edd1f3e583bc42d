"""Sending one notice exactly once: the message document's ``_id`` is the idempotency key
(cause event id + recipient + channel), so a redelivered event finds it and sends nothing new."""

from __future__ import annotations

from typing import Any

from jijiao_kit.clock import Clock
from notify.adapters.repositories import Messages
from notify.adapters.sms import SmsGateway
from notify.domain.templates import Template


def idempotency_key(event_id: str, recipient: str, channel: str) -> str:
    return f"{event_id}:{recipient}:{channel}"


class Delivery:
    def __init__(self, messages: Messages, sms: SmsGateway, clock: Clock, signature: str) -> None:
        self.messages = messages
        self.sms = sms
        self.clock = clock
        self.signature = signature

    async def send_sms(self, *, event_id: str, to: str, template: Template, values: dict[str, Any]) -> None:
        key = idempotency_key(event_id, to, "sms")
        text = f"【{self.signature}】" + template.render(values)
        now = self.clock.now()
        await self.messages.create(
            {
                "_id": key,
                "to": to,
                "channel": "sms",
                "template": template.key,
                "template_version": template.version,
                "text": text,
                "status": "pending",
                "attempts": 0,
                "cause_event_id": event_id,
                "created_at": now,
            }
        )
        message = await self.messages.get(key)
        if message is None or message["status"] == "sent":
            return
        provider_id = await self.sms.send(to=to, text=text, message_id=key)
        await self.messages.mark_sent(key, provider_id, self.clock.now())
