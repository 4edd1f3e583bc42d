"""Crash repair of reservations: places a request took and never used (it died between its two writes)
come back once its hold is past the grace; places a stored demand or allocation uses are kept."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from baseline.adapters.repositories import Hold
from baseline.bootstrap import Container
from baseline.entrypoints.worker import create_worker
from baseline.service_layer.programme import HOLD_GRACE_MS, HOLD_WRITE_LIMIT_MS
from jijiao_kit.timeutil import epoch_ms

YEAR = "2019-2020"
PAST_GRACE = timedelta(milliseconds=HOLD_GRACE_MS + 1_000)


async def _setup(centre: Any) -> tuple[str, str]:
    await centre.year()
    base = await centre.base("小学基地", "primary")
    batch = await centre.batch(base, capacity=4)  # 20 primary places
    return batch, await centre.zone("南沙实验区")


async def _counters(container: Container, zone: str) -> tuple[dict[str, Any], dict[str, Any]]:
    quota = await container.programme.quotas.collection.find_one({"_id": f"{YEAR}:{zone}"})
    stage = await container.programme.stages.collection.find_one({"_id": f"{YEAR}:primary"})
    assert quota is not None and stage is not None
    return quota, stage


async def _crash_after_demand_reservations(container: Container, zone: str, hold_id: str, places: int) -> None:
    """The first half of a demand, as a process that died before inserting it left it."""
    programme = container.programme
    qid = await programme.ensure_quota(YEAR, zone)
    hold = Hold(hold_id, epoch_ms(programme.clock.now()), {"demand_id": hold_id})
    assert await programme.quotas.reserve_demand(qid, places, hold)
    assert await programme.stages.reserve(YEAR, "primary", places, hold)


async def test_a_crashed_demand_gives_its_places_back_after_the_grace_and_a_stored_one_keeps_them(
    centre: Any, container: Container, clock: Any
) -> None:
    _, zone = await _setup(centre)
    stored = await centre.client.post(
        f"/v1/years/{YEAR}/demands", json=centre.demand(places=5), headers=centre.contact(zone)
    )
    assert stored.status_code == 201, stored.text
    await _crash_after_demand_reservations(container, zone, "lost-demand", 4)
    quota, stage = await _counters(container, zone)
    assert (quota["demand_left"], stage["free"]) == (35 - 9, 20 - 9)

    assert await container.repair.run() == 0  # inside the grace: the request may still be on its way
    quota, stage = await _counters(container, zone)
    assert set(quota["holds"]) == {"lost-demand", stored.json()["id"]} and set(stage["holds"]) == set(quota["holds"])

    clock.set(clock.now() + PAST_GRACE)
    assert await container.repair.run() == 2  # the lost demand's quota and stage holds
    quota, stage = await _counters(container, zone)
    assert (quota["demand_left"], stage["free"]) == (35 - 5, 20 - 5)
    assert quota["holds"] == {} and stage["holds"] == {}  # the stored demand's holds are settled
    assert await container.repair.run() == 0
    assert (await _counters(container, zone))[0]["demand_left"] == 30


async def test_a_crashed_allocation_gives_back_its_places_and_batch(
    centre: Any, container: Container, clock: Any
) -> None:
    batch, zone = await _setup(centre)
    await centre.allocate(batch, zone, places=5)
    programme = container.programme
    qid = await programme.ensure_quota(YEAR, zone)
    hold = Hold("lost-allocation", epoch_ms(clock.now()), {"batch_id": batch, "zone_id": "天河"})
    assert await programme.quotas.reserve_allocation(qid, 3, hold)
    quota = await programme.quotas.collection.find_one({"_id": qid})
    assert quota is not None and (quota["allocation_left"], quota["batches_left"]) == (35 - 8, 7 - 2)

    clock.set(clock.now() + PAST_GRACE)
    assert await container.repair.run() == 1
    quota = await programme.quotas.collection.find_one({"_id": qid})
    assert quota is not None and (quota["allocation_left"], quota["batches_left"]) == (30, 6)
    assert quota["holds"] == {}
    stored = await programme.batches.get(batch)
    assert stored is not None and stored["zones"][zone]["places"] == 5  # the real allocation is untouched


async def test_parallel_repair_runs_give_each_hold_back_once(centre: Any, container: Container, clock: Any) -> None:
    _, zone = await _setup(centre)
    for n in range(3):
        await _crash_after_demand_reservations(container, zone, f"lost-{n}", 2)
    clock.set(clock.now() + PAST_GRACE)
    results = await asyncio.gather(*(container.repair.run() for _ in range(8)))
    assert sum(results) == 6  # 3 demands x (quota + stage), whichever run gave each back
    quota, stage = await _counters(container, zone)
    assert (quota["demand_left"], stage["free"]) == (35, 20)


async def test_a_request_that_held_too_long_gives_up_before_writing_and_leaves_no_trace(
    centre: Any, container: Container, clock: Any
) -> None:
    _, zone = await _setup(centre)
    programme = container.programme
    next_sequence = programme.next_sequence

    async def slow_sequence(name: str) -> int:  # the request stalls between its reservation and its write
        clock.set(clock.now() + timedelta(milliseconds=HOLD_WRITE_LIMIT_MS + 1))
        return int(await next_sequence(name))

    programme.next_sequence = slow_sequence
    answer = await centre.client.post(
        f"/v1/years/{YEAR}/demands", json=centre.demand(places=5), headers=centre.contact(zone)
    )
    assert answer.status_code == 503 and answer.json()["code"] == "busy", answer.text
    assert await centre.ok("GET", f"/v1/years/{YEAR}/demands") == []
    quota, stage = await _counters(container, zone)
    assert (quota["demand_left"], stage["free"]) == (35, 20) and quota["holds"] == {} and stage["holds"] == {}


def test_the_worker_schedules_the_repair(container: Container) -> None:
    jobs = {job.name: job for job in create_worker(container).jobs}
    assert jobs["baseline.repair_holds"].run == container.repair.run
    assert jobs["baseline.repair_holds"].interval_seconds <= 30


async def test_a_crashed_allocation_gives_back_its_demand_places_too(
    centre: Any, container: Container, clock: Any
) -> None:
    batch, zone = await _setup(centre)
    demand = await centre.approved_demand(batch, zone, places=5)
    programme = container.programme
    hold = Hold("lost-allocation", epoch_ms(clock.now()), {"batch_id": batch, "zone_id": zone})
    assert await programme.demands.take(demand, 5, hold)  # the process died right after this write
    assert not await programme.demands.take(demand, 1, Hold("next", epoch_ms(clock.now())))  # nothing left

    clock.set(clock.now() + PAST_GRACE)
    assert await container.repair.run() >= 1
    stored = await programme.demands.get(demand)
    assert stored is not None and stored["unallocated"] == 5
    allocated = await centre.allocate(batch, zone, demand_id=demand)  # the places are usable again
    assert allocated["allocations"][0]["demand_id"] == demand


async def test_a_rejection_a_crash_interrupted_is_released_by_the_repair_once(
    centre: Any, container: Container
) -> None:
    _, zone = await _setup(centre)
    answer = await centre.client.post(
        f"/v1/years/{YEAR}/demands", json=centre.demand(places=5), headers=centre.contact(zone)
    )
    demand_id = answer.json()["id"]
    # The review's first write only (status and release_pending), as a process that died after it left it.
    assert await container.programme.demands.review(demand_id, {"status": "rejected", "release_pending": True})
    quota, stage = await _counters(container, zone)
    assert (quota["demand_left"], stage["free"]) == (30, 15)
    results = await asyncio.gather(*(container.repair.run() for _ in range(4)))
    assert results == [0, 0, 0, 0]
    quota, stage = await _counters(container, zone)
    assert (quota["demand_left"], stage["free"]) == (35, 20)
    stored = await container.programme.demands.get(demand_id)
    assert stored is not None and "release_pending" not in stored
    await container.programme.release_rejected(stored)  # a late repeat of the release changes nothing
    assert (await _counters(container, zone))[0]["demand_left"] == 35
