"""The development SMS sink in Redis: the first copy of a message is kept, every hit counts a delivery
(repeats within a batch and across batches), a recipient's messages list newest first, and a Redis
failure is a ProviderError, so delivery retries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from jijiao_stack.processes import free_port
from notify.adapters.channels import Outgoing, ProviderError
from notify.adapters.sms import DevSmsSink
from notify.adapters.sms_sink import PER_RECIPIENT, SmsSinkStore
from notify.settings import Settings

MOBILE = "13900000001"


@pytest.fixture
async def redis(settings_env: dict[str, Any]) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings_env["redis_url"], decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
def store(redis: Redis, settings_env: dict[str, Any]) -> SmsSinkStore:
    return SmsSinkStore(redis, Settings(**settings_env).redis_prefix)


def sms(message_id: str, text: str = "【广州继教网】测试", to: str = MOBILE) -> Outgoing:
    return Outgoing(message_id=message_id, to=to, text=text)


async def test_first_copy_kept_and_every_hit_counted(store: SmsSinkStore, redis: Redis) -> None:
    sink = DevSmsSink(store)
    first = await sink.send_many([sms("m1", "【广州继教网】第一份"), sms("m2"), sms("m1", "【广州继教网】同批重复")])
    assert len(first) == 3 and all(isinstance(p, str) and p.startswith("sink-") for p in first)
    await sink.send_many([sms("m1", "【广州继教网】下一批重复"), sms("m3", to="13900000002")])
    await sink.send(sms("m2", "【广州继教网】单发重复"))

    docs = {doc["id"]: doc for doc in await store.everything()}
    assert {key: doc["deliveries"] for key, doc in docs.items()} == {"m1": 3, "m2": 2, "m3": 1}
    m1 = docs["m1"]
    assert (m1["to"], m1["text"], m1["length"], m1["segments"]) == (MOBILE, "【广州继教网】第一份", 10, 1)
    assert m1["provider_id"] == first[0]  # the first copy's, not a later hit's
    assert isinstance(m1["received_at"], datetime) and m1["received_at"].tzinfo is not None
    assert abs((datetime.now(UTC) - m1["received_at"]).total_seconds()) < 60
    assert docs["m2"]["text"] == "【广州继教网】测试"
    assert await store.count() == 3
    # a message is listed once under its recipient however often it was received
    assert [doc["id"] for doc in await store.list_to(MOBILE)] == ["m2", "m1"]
    assert [doc["id"] for doc in await store.list_to("13900000002")] == ["m3"]
    # keys live under the service's prefix
    assert await redis.hlen(store.messages_key) == 3
    assert store.messages_key.startswith(store.base) and store.base.endswith(":notify:sms_sink:")


async def test_list_to_is_newest_first_limited_and_trimmed(store: SmsSinkStore) -> None:
    await store.store_many(
        [(f"a{n:03d}", {"to": MOBILE, "text": f"t{n}", "received_at": datetime.now(UTC)}) for n in range(5)]
    )
    await store.store("b000", {"to": MOBILE, "text": "later", "received_at": datetime.now(UTC)})
    await store.store("c000", {"to": "13900000009", "text": "other", "received_at": datetime.now(UTC)})
    assert [doc["id"] for doc in await store.list_to(MOBILE)] == ["b000", "a004", "a003", "a002", "a001", "a000"]
    assert [doc["id"] for doc in await store.list_to(MOBILE, limit=2)] == ["b000", "a004"]
    assert await store.list_to(MOBILE, limit=0) == []
    assert await store.list_to("13800000000") == []
    listed = (await store.list_to(MOBILE, limit=1))[0]
    assert (listed["text"], listed["deliveries"]) == ("later", 1)

    many = [(f"z{n:03d}", {"to": MOBILE, "text": "x"}) for n in range(PER_RECIPIENT + 10)]
    await store.store_many(many)
    listed_ids = [doc["id"] for doc in await store.list_to(MOBILE, limit=PER_RECIPIENT + 50)]
    assert listed_ids == [key for key, _ in reversed(many)][:PER_RECIPIENT]
    assert await store.count() == 7 + PER_RECIPIENT + 10  # trimming the list forgets no message


async def test_clear_forgets_only_this_sink(store: SmsSinkStore, redis: Redis, settings_env: dict[str, Any]) -> None:
    other = SmsSinkStore(redis, Settings(**settings_env).redis_prefix + "other:")
    await store.store("m1", {"to": MOBILE, "text": "t"})
    await other.store("m1", {"to": MOBILE, "text": "t"})
    await store.clear()
    assert (await store.count(), await store.list_to(MOBILE), await store.everything()) == (0, [], [])
    assert await other.count() == 1


async def test_redis_failure_is_a_provider_error() -> None:
    closed = Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    sink = DevSmsSink(SmsSinkStore(closed, "nowhere:notify:"))
    with pytest.raises(ProviderError, match="SMS sink unavailable"):
        await sink.send_many([sms("m1"), sms("m2")])
    with pytest.raises(ProviderError):
        await sink.send(sms("m3"))
    await closed.aclose()
