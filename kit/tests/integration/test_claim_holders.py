"""Claims name their holder, and a dead holder's claim is taken over at once (issue 16: a SIGKILLed
consumer's claims made redeliveries wait out the whole lease). Real store and Redis: the rule (dead
holder: taken at once; live holder: kept for its whole lease; Redis away: the lease), exactly one
winner among racing takers, and the redelivery path through a running worker."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from jijiao_contracts import Envelope, IntegrationEvent
from jijiao_kit.batching import Consuming
from jijiao_kit.consuming import EventDispatcher, Inbox
from jijiao_kit.liveness import Liveness
from jijiao_kit.messaging import EventPublisher
from jijiao_kit.runtime import Infrastructure
from jijiao_kit.settings import ServiceSettings
from jijiao_kit.worker import Worker
from jijiao_stack.pytest_plugin import eventually, running

TTL = 0.9
BEAT = 0.3


class ClaimedThing(IntegrationEvent):
    EVENT_TYPE = "kittest.claimed_thing"

    thing_id: str


@pytest.fixture
async def infra(settings_env: dict[str, Any]) -> AsyncIterator[Infrastructure]:
    infra = Infrastructure.from_settings(ServiceSettings(service_name="claims", **settings_env))
    yield infra
    await infra.close()


def liveness(infra: Infrastructure, name: str | None = None) -> Liveness:
    holder = name or f"claims:test:{uuid.uuid4().hex[:8]}"
    return Liveness(infra.redis, infra.settings.redis_prefix, holder, ttl_seconds=TTL, beat_seconds=BEAT)


def inbox(infra: Infrastructure, live: Liveness | None, lease_seconds: float = 30.0) -> Inbox:
    return Inbox(infra.db, lease_seconds=lease_seconds, liveness=live)


async def test_a_claim_names_its_holder(infra: Infrastructure) -> None:
    holder = liveness(infra)
    assert await inbox(infra, holder).claim("h", "e1") == "run"
    doc = await infra.db["inbox"].find_one({"_id": "h:e1"})
    assert doc is not None and doc["holder"] == holder.holder and doc["state"] == "processing"


async def test_a_dead_holders_claim_is_taken_over_at_once(infra: Infrastructure) -> None:
    first, second = liveness(infra), liveness(infra)
    await first.beat()
    assert await inbox(infra, first).claim("h", "e1") == "run"
    assert await inbox(infra, second).claim("h", "e1") == "busy"  # its holder lives
    await infra.redis.delete(first.key(first.holder))  # the holder died (its key ran out)
    assert await inbox(infra, second).claim("h", "e1") == "run"  # long before the 30 s lease
    doc = await infra.db["inbox"].find_one({"_id": "h:e1"})
    assert doc is not None and doc["holder"] == second.holder
    await second.beat()
    assert await inbox(infra, first).claim("h", "e1") == "busy"  # the new holder lives: kept
    await inbox(infra, second).complete("h", "e1")
    assert await inbox(infra, first).claim("h", "e1") == "done"


async def test_a_claim_whose_heartbeat_ran_out_is_taken_once_the_ttl_passed(infra: Infrastructure) -> None:
    first, second = liveness(infra), liveness(infra)
    await first.beat()  # one beat and no more: the process died
    assert await inbox(infra, first).claim("h", "e1") == "run"
    assert await inbox(infra, second).claim("h", "e1") == "busy"
    started = time.monotonic()

    async def taken() -> bool:
        return await inbox(infra, second).claim("h", "e1") == "run"

    await eventually(taken, timeout=TTL + 2)
    assert time.monotonic() - started < TTL + 2 < 30


async def test_a_live_holder_keeps_its_claim_for_its_whole_lease(infra: Infrastructure) -> None:
    """A slow effect (an SMS gateway that takes its time) is never run twice: while its holder beats,
    its claim is refused to every other taker until the lease runs out, long after the heartbeat TTL."""
    first, second = liveness(infra), liveness(infra)
    stop = asyncio.Event()
    beating = asyncio.create_task(first.run(stop))
    try:
        lease = 3 * TTL
        assert await inbox(infra, first, lease).claim("h", "e1") == "run"
        lease_ends = time.monotonic() + lease
        refused = 0
        while time.monotonic() < lease_ends - 0.3:
            assert await inbox(infra, second, lease).claim("h", "e1") == "busy"
            refused += 1
            await asyncio.sleep(0.1)
        assert refused > 10
        await asyncio.sleep(max(0.0, lease_ends - time.monotonic()) + 0.1)
        assert await inbox(infra, second, lease).claim("h", "e1") == "run"  # the lease still bounds it
    finally:
        stop.set()
        await beating


async def test_the_same_holder_is_never_taken_over_by_itself(infra: Infrastructure) -> None:
    """Another delivery of an event this process is handling right now waits: the holder lives."""
    holder = liveness(infra)
    await holder.beat()
    assert await inbox(infra, holder).claim("h", "e1") == "run"
    assert await inbox(infra, holder).claim("h", "e1") == "busy"


async def test_a_claim_of_this_holder_not_in_hand_is_taken_back_at_once(infra: Infrastructure) -> None:
    """The store died under a claim's insert (applied, answer lost) or under its release: the claim
    names this live process, which is not running it; a redelivery takes it back at once."""
    holder = liveness(infra)
    await holder.beat()
    lease_ends_ms = int((time.time() + 30) * 1000)
    await infra.db["inbox"].insert_one(
        {"_id": "h:lost", "state": "processing", "lease_until_ms": lease_ends_ms, "holder": holder.holder}
    )
    assert await inbox(infra, holder).claim("h", "lost") == "run"
    assert await inbox(infra, holder).claim("h", "lost") == "busy"  # now in hand
    inbox(infra, holder).let_go("h", "lost")  # the delivery failed to release it: lost track again
    assert await inbox(infra, holder).claim("h", "lost") == "run"


async def test_of_takers_racing_for_a_dead_holders_claim_exactly_one_runs(infra: Infrastructure) -> None:
    dead = liveness(infra)
    takers = [liveness(infra) for _ in range(8)]
    for taker in takers:
        await taker.beat()
    for n in range(10):
        assert await inbox(infra, dead).claim("h", f"race{n}") == "run"
        outcomes = await asyncio.gather(*(inbox(infra, taker).claim("h", f"race{n}") for taker in takers))
        assert sorted(outcomes) == ["busy"] * 7 + ["run"], outcomes
        doc = await infra.db["inbox"].find_one({"_id": f"h:race{n}"})
        assert doc is not None and doc["holder"] == takers[outcomes.index("run")].holder


async def test_when_redis_cannot_be_asked_a_claim_waits_for_its_lease(infra: Infrastructure) -> None:
    dead = liveness(infra)
    away = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2, socket_timeout=0.2)
    blind = Liveness(away, infra.settings.redis_prefix, "claims:blind", ttl_seconds=TTL, beat_seconds=BEAT)
    try:
        assert await inbox(infra, dead, 0.5).claim("h", "e1") == "run"
        assert await inbox(infra, blind, 0.5).claim("h", "e1") == "busy"  # unknown counts as alive
        await asyncio.sleep(0.6)
        assert await inbox(infra, blind, 0.5).claim("h", "e1") == "run"
    finally:
        await away.aclose()


async def test_a_stale_heartbeat_is_known_to_its_holder(infra: Infrastructure) -> None:
    holder = liveness(infra)
    assert not holder.stale()  # never started: a service driven directly by a test
    assert await holder.beat()
    assert not holder.stale()
    await asyncio.sleep(TTL - BEAT + 0.05)
    assert holder.stale()  # no renewal for a while: its key may be gone
    assert await holder.beat()
    assert not holder.stale()


async def test_a_redelivered_event_whose_claim_a_dead_worker_holds_is_handled_at_once(
    settings_env: dict[str, Any],
) -> None:
    """The redelivery path after a SIGKILL: the broker redelivers to the surviving worker, which meets
    the dead worker's claim (30 s lease left) and takes it over at once; an event claimed by a live
    worker is not touched."""
    consumer = Infrastructure.from_settings(
        ServiceSettings(
            service_name="claims",
            liveness_ttl_seconds=TTL,
            liveness_beat_seconds=BEAT,
            delivery_limit=50,
            **settings_env,
        )
    )
    producer = Infrastructure.from_settings(ServiceSettings(service_name="claimsproducer", **settings_env))
    handled: list[str] = []
    dispatcher = EventDispatcher()

    @dispatcher.handles(ClaimedThing, name="claims.handle")
    async def handle(event: ClaimedThing, envelope: Envelope) -> None:
        handled.append(event.thing_id)

    worker = Worker(consumer, title="claims", consuming=Consuming.one_by_one(dispatcher, Inbox(consumer.db)))
    live = liveness(consumer, "claims:other-live-worker")
    stop = asyncio.Event()
    beating = asyncio.create_task(live.run(stop))
    dead_one = Envelope.wrap(ClaimedThing(thing_id="of-dead"), producer="claimsproducer")
    live_one = Envelope.wrap(ClaimedThing(thing_id="of-live"), producer="claimsproducer")
    lease_ends_ms = int((time.time() + 30) * 1000)
    for envelope, holder in ((dead_one, "claims:sigkilled-worker"), (live_one, live.holder)):
        await consumer.db["inbox"].insert_one(
            {
                "_id": f"claims.handle:{envelope.event_id}",
                "state": "processing",
                "lease_until_ms": lease_ends_ms,
                "holder": holder,
            }
        )
    try:
        async with running(worker), running(Worker(producer, title="producer")) as publishing:
            publisher = EventPublisher(publishing.broker, publishing.settings.topology)
            started = time.monotonic()
            for envelope in (dead_one, live_one):
                await publisher.publish_raw(
                    envelope.routing_key,
                    envelope.model_dump_json().encode(),
                    event_id=envelope.event_id,
                    correlation_id=None,
                )

            async def dead_ones_handled() -> bool:
                return "of-dead" in handled

            await eventually(dead_ones_handled, timeout=8)
            assert time.monotonic() - started < 8  # not the 30 s lease
            await asyncio.sleep(2 * TTL)  # the live worker's claim outlasts its heartbeat's TTL...
            assert "of-live" not in handled  # ...and is still refused
            stop.set()
            await beating  # the other worker dies: its claim is taken over within the TTL

            async def live_ones_handled() -> bool:
                return "of-live" in handled

            await eventually(live_ones_handled, timeout=TTL + 6)
        assert sorted(handled) == ["of-dead", "of-live"]
    finally:
        stop.set()
        await consumer.close()
        await producer.close()
