"""SMS channel adapters behind one port."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase

from notify.adapters.mongo import SMS_SINK


class SmsGateway(Protocol):
    async def send(self, *, to: str, text: str, message_id: str) -> str:
        """Send one SMS; returns the provider's id. Raises on a provider error."""
        ...


class DevSmsSink:
    """Development gateway: stores each SMS instead of sending it; keyed by our message id, so a
    repeated send of the same message is stored once."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.collection = db[SMS_SINK]

    async def send(self, *, to: str, text: str, message_id: str) -> str:
        provider_id = f"sink-{uuid.uuid4().hex[:12]}"
        await self.collection.update_one(
            {"_id": message_id},
            {"$setOnInsert": {"to": to, "text": text, "provider_id": provider_id, "received_at": datetime.now(UTC)}},
            upsert=True,
        )
        return provider_id
