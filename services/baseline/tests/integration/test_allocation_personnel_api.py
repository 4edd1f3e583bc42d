"""Allocation (item 5), personnel (item 6), reporting and check-in (items 7, 8) and rewards (item 11)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

YEAR = "2019-2020"


async def _setup(centre: Any, capacity: int = 2) -> tuple[str, str]:
    await centre.year()
    base = await centre.base("北京小学", "primary")
    batch = await centre.batch(base, capacity=capacity)
    zone = await centre.zone("南沙实验区")
    return batch, zone


def _url(batch: str, zone: str) -> str:
    return f"/v1/batches/{batch}/zones/{zone}/trainees"


async def test_a_batch_is_never_allocated_beyond_its_capacity(centre: Any, container: Any) -> None:
    await centre.year()
    batch = await centre.batch(await centre.base("北京小学"), capacity=2)
    await centre.batch(await centre.base("北京二小"), capacity=4)  # places for every zone's demand
    zones = [await centre.zone(f"实验区{i}", f"1370000000{i}") for i in range(6)]
    demands = [await centre.approved_demand(batch, z) for z in zones]
    answers = await asyncio.gather(
        *(
            centre.client.post(f"/v1/batches/{batch}/allocations", json={"demand_id": d}, headers=centre.headers)
            for d in demands
        )
    )
    codes = [a.status_code for a in answers]
    assert codes.count(201) == 2 and codes.count(409) == 4, codes
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"batch_full"}
    stored = await centre.ok("GET", f"/v1/batches/{batch}")
    assert stored["zones_left"] == 0 and len(stored["allocations"]) == 2
    assert {a["demand_type"] for a in stored["allocations"]} == {"exchange"}
    # The refused zones got their quota and their demand's places back.
    winners = {a["zone_id"] for a in stored["allocations"]}
    for zone in zones:
        quota = await centre.ok("GET", f"/v1/years/{YEAR}/quota", params={"zone_id": zone})
        assert quota["remaining_allocation_places"] == (30 if zone in winners else 35)
    unallocated = {d["zone_id"]: d["unallocated"] for d in await centre.ok("GET", f"/v1/years/{YEAR}/demands")}
    assert unallocated == {zone: (0 if zone in winners else 5) for zone in zones}
    # The allocation event is in the batch's outbox (one write with the allocation).
    doc = await container.infra.db["batches"].find_one({"_id": batch})
    types = sorted(entry["routing_key"] for entry in doc["outbox"].values())
    assert types == ["baseline.batch_allocated.v1"] * 2


async def test_a_zone_gets_no_more_than_its_quota_of_batches(centre: Any) -> None:
    await centre.year()
    base = await centre.base("北京小学")
    batches = [await centre.batch(base, capacity=1) for _ in range(8)]
    zone = await centre.zone("南沙实验区")
    demand = await centre.approved_demand(batches[0], zone, places=35)
    answers = await asyncio.gather(
        *(
            centre.client.post(
                f"/v1/batches/{b}/allocations", json={"demand_id": demand, "places": 4}, headers=centre.headers
            )
            for b in batches
        )
    )
    codes = [a.status_code for a in answers]
    assert codes.count(201) == 7 and codes.count(409) == 1  # 7 batches a year, though places are left
    assert [a.json()["code"] for a in answers if a.status_code == 409] == ["quota_exhausted"]
    mine = await centre.client.get(f"/v1/years/{YEAR}/batches?mine=true", headers=centre.contact(zone))
    assert len(mine.json()) == 7
    # Every zone contact sees the published schedule, with only their own allocation in it.
    schedule = await centre.client.get(f"/v1/years/{YEAR}/batches", headers=centre.contact("abc123"))
    assert len(schedule.json()) == 8 and all(b["allocations"] == [] for b in schedule.json())
    stranger = centre.trainee("t1", "feedbeef0000", "abc123")
    other = await centre.client.get(f"/v1/batches/{batches[0]}", headers=stranger)
    assert other.status_code == 404 and other.json()["code"] == "batch_not_found"


async def test_an_allocation_answers_an_approved_demand_of_the_batch_stage_and_never_exceeds_it(
    centre: Any,
) -> None:
    await centre.year()
    primary = [await centre.batch(await centre.base(f"小学{i}"), capacity=1) for i in range(2)]
    junior = await centre.batch(await centre.base("初中", "junior"), capacity=1)
    zone = await centre.zone("南沙实验区")
    headers = centre.contact(zone)
    pending = await centre.ok("POST", f"/v1/years/{YEAR}/demands", 201, json=centre.demand(places=5), headers=headers)

    async def allocate(batch: str, demand: str, **extra: Any) -> Any:
        body = {"demand_id": demand, **extra}
        return await centre.client.post(f"/v1/batches/{batch}/allocations", json=body, headers=centre.headers)

    refused = await allocate(primary[0], pending["id"])
    assert refused.status_code == 409 and refused.json()["code"] == "demand_not_approved"
    await centre.ok("POST", f"/v1/demands/{pending['id']}/review", json={"approve": True})
    wrong_stage = await allocate(junior, pending["id"])
    assert wrong_stage.status_code == 409 and wrong_stage.json()["code"] == "stage_mismatch"
    other_zone = await allocate(primary[0], pending["id"], zone_id="abc123")
    assert other_zone.status_code == 404 and other_zone.json()["code"] == "demand_not_found"
    # Both primary batches at once, 5 places each, against a demand of 5: one wins.
    answers = await asyncio.gather(*(allocate(b, pending["id"], places=5) for b in primary))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201, 409] and {a.json().get("code") for a in answers} >= {"demand_exceeded"}
    demand = next(d for d in await centre.ok("GET", f"/v1/years/{YEAR}/demands") if d["id"] == pending["id"])
    quota = await centre.ok("GET", f"/v1/years/{YEAR}/quota", params={"zone_id": zone})
    assert demand["unallocated"] == 0 and quota["remaining_allocation_places"] == 30
    assert quota["remaining_batches"] == 6


async def test_twenty_simultaneous_additions_to_a_batch_of_five_keep_five(centre: Any) -> None:
    batch, zone = await _setup(centre)
    await centre.allocate(batch, zone)
    answers = await asyncio.gather(
        *(
            centre.client.post(
                _url(batch, zone),
                json=centre.trainee_body(f"老师{i}", f"139000000{i:02d}"),
                headers=centre.contact(zone),
            )
            for i in range(20)
        )
    )
    codes = [a.status_code for a in answers]
    assert codes.count(201) == 5 and codes.count(409) == 15
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"batch_trainees_full"}
    roster = await centre.ok("GET", _url(batch, zone), headers=centre.contact(zone))
    assert len(roster["trainees"]) == 5


async def test_personnel_until_confirmation_then_only_the_centre(centre: Any, clock: Any, container: Any) -> None:
    batch, zone = await _setup(centre)
    await centre.allocate(batch, zone, places=3)
    contact = centre.contact(zone)
    client = centre.client
    other_zone = await client.get(_url(batch, zone), headers=centre.contact("abc123"))
    assert other_zone.status_code == 404
    leader = await centre.ok("POST", _url(batch, zone), 201, json=centre.trainee_body(role="leader"), headers=contact)
    member = await centre.ok(
        "POST", _url(batch, zone), 201, json=centre.trainee_body("李老师", "13900000001"), headers=contact
    )
    edited = await centre.ok(
        "PUT", f"{_url(batch, zone)}/{member['id']}", json=centre.trainee_body("李老师", "13900000002"), headers=contact
    )
    assert edited["mobile"] == "13900000002"
    await centre.ok("DELETE", f"{_url(batch, zone)}/{member['id']}", 204, headers=contact)
    empty_confirm = await client.post(
        f"/v1/batches/{batch}/zones/{zone}/confirmation", headers=centre.contact("abc123")
    )
    assert empty_confirm.status_code == 404

    confirmed = await centre.ok("POST", f"/v1/batches/{batch}/zones/{zone}/confirmation", headers=contact)
    assert confirmed["confirmed"] is True and [t["id"] for t in confirmed["trainees"]] == [leader["id"]]
    late_add = await client.post(_url(batch, zone), json=centre.trainee_body("王老师", "13900000003"), headers=contact)
    assert late_add.status_code == 409 and late_add.json()["code"] == "personnel_confirmed"
    late_edit = await client.put(f"{_url(batch, zone)}/{leader['id']}", json=centre.trainee_body(), headers=contact)
    assert late_edit.status_code == 409 and late_edit.json()["code"] == "personnel_confirmed"
    again = await client.post(f"/v1/batches/{batch}/zones/{zone}/confirmation", headers=contact)
    assert again.status_code == 409
    by_centre = await client.put(
        f"{_url(batch, zone)}/{leader['id']}", json=centre.trainee_body("张老师", "13900000009"), headers=centre.headers
    )
    assert by_centre.status_code == 200 and by_centre.json()["mobile"] == "13900000009"

    doc = await container.infra.db["batches"].find_one({"_id": batch})
    events = [e["routing_key"] for e in doc["outbox"].values()]
    assert sorted(events) == [
        "baseline.batch_allocated.v1",
        "baseline.trainee_changed.v1",  # the centre's new mobile: the login follows
        "baseline.trainees_confirmed.v1",
    ]

    # The centre adds to and removes from a confirmed list: logins follow (one event each, same write).
    added = await centre.ok("POST", _url(batch, zone), 201, json=centre.trainee_body("赵老师", "13900000005"))
    await centre.ok("DELETE", f"{_url(batch, zone)}/{added['id']}", 204)
    doc = await container.infra.db["batches"].find_one({"_id": batch})
    bodies = sorted((e["routing_key"], e["body"]) for e in doc["outbox"].values())
    assert [key for key, _ in bodies] == [
        "baseline.batch_allocated.v1",
        "baseline.trainee_changed.v1",
        "baseline.trainee_withdrawn.v1",
        "baseline.trainees_confirmed.v1",
        "baseline.trainees_confirmed.v1",
    ]
    assert sum(added["id"] in body for _, body in bodies) == 2

    # Reporting (报到) before the report deadline; the zone contact sees who has not.
    trainee = centre.trainee(leader["id"], batch, zone)
    roster = await centre.ok("GET", _url(batch, zone), headers=contact)
    assert roster["not_reported"] == [leader["id"]]
    reported = await centre.ok("POST", "/v1/me/report", headers=trainee)
    assert reported["reported"] is True
    assert (await centre.ok("GET", _url(batch, zone), headers=contact))["not_reported"] == []
    twice = await client.post("/v1/me/report", headers=trainee)
    assert twice.status_code == 409 and twice.json()["code"] == "already_reported"

    # Check-in (签到) only once the stay started, only for the own batch.
    early = await client.post(f"/v1/batches/{batch}/check-in", headers=trainee)
    assert early.status_code == 409 and early.json()["code"] == "stay_not_started"
    clock.set(datetime(2019, 9, 16, 1, 0, tzinfo=UTC))
    wrong = await client.post("/v1/batches/aaaaaaaaaaaa/check-in", headers=trainee)
    assert wrong.status_code == 404
    checked = await centre.ok("POST", f"/v1/batches/{batch}/check-in", headers=trainee)
    assert checked["checked_in"] is True


async def test_personnel_closes_at_the_deadline(centre: Any, clock: Any) -> None:
    batch, zone = await _setup(centre)
    await centre.allocate(batch, zone)
    clock.set(datetime(2019, 8, 21, tzinfo=UTC))
    late = await centre.client.post(_url(batch, zone), json=centre.trainee_body(), headers=centre.contact(zone))
    assert late.status_code == 409 and late.json()["code"] == "personnel_deadline_passed"
    roster = await centre.ok("GET", _url(batch, zone))
    assert roster["trainees"] == []


async def test_at_most_two_zones_are_rewarded_and_their_next_quota_grows(centre: Any) -> None:
    await centre.year()
    zones = [await centre.zone(f"实验区{i}", f"1370000000{i}") for i in range(3)]
    answers = await asyncio.gather(
        *(centre.client.post(f"/v1/years/{YEAR}/rewards", json={"zone_id": z}, headers=centre.headers) for z in zones)
    )
    codes = [a.status_code for a in answers]
    assert codes.count(201) == 2 and codes.count(409) == 1
    assert [a.json()["code"] for a in answers if a.status_code == 409] == ["reward_limit"]
    await centre.year(
        "2020-2021",
        demand_deadline="2020-07-15T16:00:00Z",
        personnel_deadline="2020-08-20T16:00:00Z",
        report_deadline="2020-09-05T16:00:00Z",
    )
    rewarded = {a.json()["zone_id"] for a in answers if a.status_code == 201}
    for zone in zones:
        quota = await centre.ok("GET", "/v1/years/2020-2021/quota", params={"zone_id": zone})
        expected = (45, 2) if zone in rewarded else (35, 0)
        assert (quota["person_times"], quota["reward_batches"]) == expected
        assert quota["remaining_batches"] == (9 if zone in rewarded else 7)


async def test_a_reward_waits_until_the_last_stay_of_the_year_is_over(centre: Any, clock: Any) -> None:
    _, zone = await _setup(centre)  # a stay from 2019-09-16 to 2019-09-29
    early = await centre.client.post(f"/v1/years/{YEAR}/rewards", json={"zone_id": zone}, headers=centre.headers)
    assert early.status_code == 409 and early.json()["code"] == "year_not_over"
    clock.set(datetime(2019, 9, 30, 1, 0, tzinfo=UTC))  # 09:00 in Beijing, the day after the stay
    await centre.ok("POST", f"/v1/years/{YEAR}/rewards", 201, json={"zone_id": zone})
