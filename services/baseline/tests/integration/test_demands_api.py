"""Quotas, availability hints and demands (issue 15 items 3 and 4), with the parallel invariants."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

YEAR = "2019-2020"


async def _year_with_stage(centre: Any, capacity: int, stage: str = "primary") -> str:
    await centre.year()
    base = await centre.base(f"{stage}基地", stage)
    return str(await centre.batch(base, capacity=capacity))


async def test_a_zone_contact_sees_quota_hints_and_submits_demands_in_order(centre: Any) -> None:
    await _year_with_stage(centre, capacity=4)  # 20 primary places
    zone = await centre.zone("南沙实验区")
    other = await centre.zone("天河实验区", "13700000002")
    client = centre.client

    quota = await client.get(f"/v1/years/{YEAR}/quota", headers=centre.contact(zone))
    assert quota.status_code == 200, quota.text
    assert quota.json()["person_times"] == 35 and quota.json()["remaining_demand_places"] == 35
    assert quota.json()["demand_deadline"].startswith("2019-07-15T16:00:00")

    hints = {
        row["stage"]: row
        for row in (await client.get(f"/v1/years/{YEAR}/availability", headers=centre.contact(zone))).json()
    }
    assert hints["primary"]["hint"] == "ample" and hints["primary"]["hint_label"] == "名额充足"
    assert hints["senior"]["hint"] == "none" and hints["senior"]["hint_label"] == "无名额"

    first = await client.post(
        f"/v1/years/{YEAR}/demands", json=centre.demand(places=8, remark="需要住宿"), headers=centre.contact(zone)
    )
    second = await client.post(f"/v1/years/{YEAR}/demands", json=centre.demand(places=5), headers=centre.contact(other))
    again = await client.post(f"/v1/years/{YEAR}/demands", json=centre.demand(places=2), headers=centre.contact(zone))
    assert (first.status_code, second.status_code, again.status_code) == (201, 201, 201), first.text
    hints = {
        row["stage"]: row
        for row in (await client.get(f"/v1/years/{YEAR}/availability", headers=centre.contact(zone))).json()
    }
    assert hints["primary"]["free"] == 5 and hints["primary"]["hint"] == "moderate"

    # The centre sees every demand in submission order; a zone only its own.
    everything = await centre.ok("GET", f"/v1/years/{YEAR}/demands")
    assert [d["id"] for d in everything] == [first.json()["id"], second.json()["id"], again.json()["id"]]
    assert [d["sequence"] for d in everything] == sorted(d["sequence"] for d in everything)
    own = (await client.get(f"/v1/years/{YEAR}/demands", headers=centre.contact(zone))).json()
    assert {d["zone_id"] for d in own} == {zone} and len(own) == 2
    quota = (await client.get(f"/v1/years/{YEAR}/quota", headers=centre.contact(zone))).json()
    assert quota["remaining_demand_places"] == 25


async def test_refused_demands_leave_no_trace(centre: Any, clock: Any) -> None:
    await _year_with_stage(centre, capacity=1)
    zone = await centre.zone("南沙实验区")
    client, headers = centre.client, centre.contact(zone)
    remark = await client.post(f"/v1/years/{YEAR}/demands", json=centre.demand(remark="长" * 31), headers=headers)
    assert remark.status_code == 422 and remark.json()["code"] == "remark_too_long"
    no_places = await client.post(f"/v1/years/{YEAR}/demands", json=centre.demand(stage="senior"), headers=headers)
    assert no_places.status_code == 409 and no_places.json()["code"] == "stage_full"
    too_many = await client.post(f"/v1/years/{YEAR}/demands", json=centre.demand(places=6), headers=headers)
    assert too_many.status_code == 409 and too_many.json()["code"] == "stage_full"
    by_centre = await client.post(f"/v1/years/{YEAR}/demands", json=centre.demand(), headers=centre.headers)
    assert by_centre.status_code == 403
    clock.set(datetime(2019, 7, 16, tzinfo=UTC))
    late = await client.post(f"/v1/years/{YEAR}/demands", json=centre.demand(), headers=headers)
    assert late.status_code == 409 and late.json()["code"] == "demand_deadline_passed"
    assert await centre.ok("GET", f"/v1/years/{YEAR}/demands") == []
    quota = (await client.get(f"/v1/years/{YEAR}/quota", headers=headers)).json()
    hints = {row["stage"]: row for row in (await client.get(f"/v1/years/{YEAR}/availability", headers=headers)).json()}
    assert quota["remaining_demand_places"] == 35 and hints["primary"]["free"] == 5


async def test_two_zones_taking_the_last_places_of_a_stage_at_once_one_wins(centre: Any) -> None:
    await _year_with_stage(centre, capacity=1)  # 5 primary places
    zones = [await centre.zone(f"实验区{i}", f"1370000000{i}") for i in range(2)]
    answers = await asyncio.gather(
        *(
            centre.client.post(f"/v1/years/{YEAR}/demands", json=centre.demand(places=5), headers=centre.contact(z))
            for z in zones
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409]
    assert [a.json()["code"] for a in answers if a.status_code == 409] == ["stage_full"]
    assert len(await centre.ok("GET", f"/v1/years/{YEAR}/demands")) == 1
    quotas = [(await centre.client.get(f"/v1/years/{YEAR}/quota", headers=centre.contact(z))).json() for z in zones]
    assert sorted(q["remaining_demand_places"] for q in quotas) == [30, 35]


async def test_the_36th_person_time_of_a_zone_is_refused_under_parallel_requests(centre: Any) -> None:
    await _year_with_stage(centre, capacity=10)  # 50 places: the stage is not the limit
    zone = await centre.zone("南沙实验区")
    answers = await asyncio.gather(
        *(
            centre.client.post(f"/v1/years/{YEAR}/demands", json=centre.demand(places=1), headers=centre.contact(zone))
            for _ in range(40)
        )
    )
    codes = [a.status_code for a in answers]
    assert codes.count(201) == 35 and codes.count(409) == 5
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"quota_exhausted"}
    assert len(await centre.ok("GET", f"/v1/years/{YEAR}/demands")) == 35
    hints = {row["stage"]: row for row in await centre.ok("GET", f"/v1/years/{YEAR}/availability")}
    assert hints["primary"]["free"] == 15


async def test_a_rejected_demand_gives_its_places_back(centre: Any) -> None:
    await _year_with_stage(centre, capacity=1)
    zone = await centre.zone("南沙实验区")
    created = await centre.ok(
        "POST", f"/v1/years/{YEAR}/demands", 201, json=centre.demand(), headers=centre.contact(zone)
    )
    reviewed = await centre.ok(
        "POST", f"/v1/demands/{created['id']}/review", json={"approve": False, "comment": "名额已满"}
    )
    assert reviewed["status"] == "rejected"
    twice = await centre.client.post(
        f"/v1/demands/{created['id']}/review", json={"approve": True}, headers=centre.headers
    )
    assert twice.status_code == 409 and twice.json()["code"] == "demand_reviewed"
    hints = {row["stage"]: row for row in await centre.ok("GET", f"/v1/years/{YEAR}/availability")}
    quota = await centre.ok("GET", f"/v1/years/{YEAR}/quota", params={"zone_id": zone})
    assert hints["primary"]["free"] == 5 and quota["remaining_demand_places"] == 35
