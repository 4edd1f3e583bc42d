"""What the development SMS sink received, in Redis (not in the service's store: the sink stands in for
an external gateway, so it must not cost the store a write per notice that production never pays).

Keys under the service's Redis prefix:
- ``<prefix>sms_sink:messages``: hash, message id -> JSON ``{to, text, length, segments, provider_id,
  received_at}`` (ISO 8601 with offset), the first copy received;
- ``<prefix>sms_sink:deliveries``: hash, message id -> how many times it was received (a double send
  stays visible as 2);
- ``<prefix>sms_sink:to:<mobile>``: list of message ids, newest first, trimmed to ``PER_RECIPIENT``.

A development tool: nothing here outlives a Redis restart or flush."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

Doc = dict[str, Any]

#: Message ids kept per recipient for ``list_to`` (the messages themselves stay in the hash).
PER_RECIPIENT = 200

# KEYS[1]: messages hash, KEYS[2]: deliveries hash, KEYS[2 + i]: recipient list of message i.
# ARGV[1]: list cap; ARGV[2i], ARGV[2i + 1]: id and JSON of message i. The first copy of an id is
# kept (and listed once under its recipient); every hit counts one delivery, repeats within the
# batch included. Returns how many messages were new.
_STORE = """
local cap = tonumber(ARGV[1])
local new = 0
for i = 1, #KEYS - 2 do
  local id = ARGV[2 * i]
  if redis.call('HSETNX', KEYS[1], id, ARGV[2 * i + 1]) == 1 then
    redis.call('LPUSH', KEYS[2 + i], id)
    redis.call('LTRIM', KEYS[2 + i], 0, cap - 1)
    new = new + 1
  end
  redis.call('HINCRBY', KEYS[2], id, 1)
end
return new
"""


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class SmsSinkStore:
    """The sink's messages in Redis. Redis errors propagate (``DevSmsSink`` turns them into
    ``ProviderError``, so delivery retries)."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.base = f"{prefix}sms_sink:"
        self.messages_key = f"{self.base}messages"
        self.deliveries_key = f"{self.base}deliveries"
        self._store = redis.register_script(_STORE)

    def to_key(self, to: str) -> str:
        return f"{self.base}to:{to}"

    async def store(self, message_id: str, fields: Mapping[str, Any]) -> None:
        """Keep the first copy; ``deliveries`` counts every hit, so a double send stays visible."""
        await self.store_many([(message_id, fields)])

    async def store_many(self, messages: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """``store`` for many messages in one round trip (one script for the whole batch)."""
        if not messages:
            return
        keys = [self.messages_key, self.deliveries_key]
        args: list[Any] = [PER_RECIPIENT]
        for message_id, fields in messages:
            keys.append(self.to_key(str(fields["to"])))
            args += [message_id, json.dumps(dict(fields), ensure_ascii=False, default=_json_default)]
        await self._store(keys=keys, args=args)

    async def list_to(self, to: str, limit: int = 100) -> list[Doc]:
        """The last ``limit`` messages received for ``to``, newest first."""
        if limit <= 0:
            return []
        ids = [_text(value) for value in await self.redis.lrange(self.to_key(to), 0, limit - 1)]
        return await self._read(ids)

    async def everything(self) -> list[Doc]:
        """Every message the sink holds (with ``id`` and ``deliveries``), oldest first."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(self.messages_key)
            pipe.hgetall(self.deliveries_key)
            stored, hits = await pipe.execute()
        counts = {_text(key): int(value) for key, value in hits.items()}
        docs = [self._doc(_text(key), value, counts.get(_text(key), 0)) for key, value in stored.items()]
        docs.sort(key=lambda doc: (str(doc.get("received_at") or ""), doc["id"]))
        return docs

    async def provider_ids(self, message_ids: Sequence[str]) -> dict[str, str]:
        """The provider id of each of these messages the sink already received (a status query by our id)."""
        if not message_ids:
            return {}
        stored = await self.redis.hmget(self.messages_key, list(message_ids))
        return {
            message_id: str(json.loads(_text(value)).get("provider_id") or "")
            for message_id, value in zip(message_ids, stored, strict=True)
            if value is not None
        }

    async def count(self) -> int:
        """How many distinct messages the sink holds (one cheap command)."""
        return int(await self.redis.hlen(self.messages_key))

    async def clear(self) -> None:
        """Forget everything the sink holds (benchmarks clean up after themselves)."""
        batch: list[str | bytes] = []
        async for key in self.redis.scan_iter(match=f"{self.base}*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                await self.redis.unlink(*batch)
                batch = []
        if batch:
            await self.redis.unlink(*batch)

    async def _read(self, ids: list[str]) -> list[Doc]:
        if not ids:
            return []
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hmget(self.messages_key, ids)
            pipe.hmget(self.deliveries_key, ids)
            stored, hits = await pipe.execute()
        return [
            self._doc(message_id, value, int(count or 0))
            for message_id, value, count in zip(ids, stored, hits, strict=True)
            if value is not None
        ]

    @staticmethod
    def _doc(message_id: str, value: str | bytes, deliveries: int) -> Doc:
        doc: Doc = json.loads(value)
        if isinstance(doc.get("received_at"), str):
            doc["received_at"] = datetime.fromisoformat(doc["received_at"])
        return {"id": message_id, **doc, "deliveries": deliveries}
