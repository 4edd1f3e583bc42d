"""SMS adapters behind the channel port: the development sink (in Redis) and an HTTP gateway."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from redis.exceptions import RedisError

from notify.adapters.channels import Outgoing, ProviderError, RejectedError
from notify.adapters.sms_sink import SmsSinkStore
from notify.domain.sms import size


class DevSmsSink:
    """Development gateway: stores each SMS in Redis instead of sending it, keyed by our message id, so
    a repeated send of the same message is stored once (and counted in ``deliveries``). Listed by
    ``GET /v1/dev/sms``. A Redis failure is a ``ProviderError``: delivery retries, as with a gateway."""

    def __init__(self, store: SmsSinkStore) -> None:
        self.store = store

    async def send(self, message: Outgoing) -> str:
        [provider_id] = await self.send_many([message])
        assert isinstance(provider_id, str)
        return provider_id

    async def accepted(self, message_ids: Sequence[str]) -> dict[str, str]:
        """Status query by our message id: the provider ids of those the sink already received."""
        try:
            return await self.store.provider_ids(message_ids)
        except (RedisError, OSError) as exc:
            raise ProviderError(f"SMS sink unavailable: {type(exc).__name__}") from exc

    async def send_many(self, messages: Sequence[Outgoing]) -> list[str | ProviderError]:
        """All messages in one round trip to the sink (each keyed by its message id)."""
        now = datetime.now(UTC)
        provider_ids = [f"sink-{uuid.uuid4().hex[:12]}" for _ in messages]
        entries: list[tuple[str, dict[str, Any]]] = []
        for message, provider_id in zip(messages, provider_ids, strict=True):
            measured = size(message.text)
            entries.append(
                (
                    message.message_id,
                    {
                        "to": message.to,
                        "text": message.text,
                        "length": measured.length,
                        "segments": measured.segments,
                        "provider_id": provider_id,
                        "received_at": now,
                    },
                )
            )
        try:
            await self.store.store_many(entries)
        except (RedisError, OSError) as exc:
            raise ProviderError(f"SMS sink unavailable: {type(exc).__name__}") from exc
        return list(provider_ids)


class HttpSmsGateway:
    """A vendor's HTTP SMS API: ``POST <url>`` with JSON ``{"mobile", "content", "client_ref"}`` and
    HTTP basic credentials; a 2xx answer carries the vendor's id as ``message_id`` (or ``id``).
    ``client_ref`` is our idempotency key, so a gateway that dedupes on it never sends twice."""

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 5.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url
        auth = httpx.BasicAuth(username, password or "") if username else None
        self.client = client or httpx.AsyncClient(timeout=timeout, auth=auth)

    async def send(self, message: Outgoing) -> str:
        try:
            response = await self.client.post(
                self.url,
                json={"mobile": message.to, "content": message.text, "client_ref": message.message_id},
            )
        except httpx.HTTPError as exc:
            raise ProviderError(f"SMS gateway unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise ProviderError(f"SMS gateway answered {response.status_code}")
        if response.status_code >= 400:
            raise RejectedError(f"SMS gateway refused the message: {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            body = {}
        return str(body.get("message_id") or body.get("id") or f"http-{message.message_id}")

    async def close(self) -> None:
        await self.client.aclose()
