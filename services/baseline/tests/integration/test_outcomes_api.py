"""Outcomes within three months (item 9), reminders by a periodic job and who is overdue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

OUTCOME = {"title": "研修成果", "summary": "课堂观察与教研组建设的体会", "shared_on": "2019-11-20"}


async def test_outcomes_reminders_and_overdue(centre: Any, clock: Any, container: Any) -> None:
    await centre.year()
    batch = await centre.batch(await centre.base("北京小学"))
    zone = await centre.zone("南沙实验区")
    await centre.allocate(batch, zone)
    url = f"/v1/batches/{batch}/zones/{zone}"
    contact = centre.contact(zone)
    first = await centre.ok("POST", f"{url}/trainees", 201, json=centre.trainee_body(), headers=contact)
    second = await centre.ok(
        "POST", f"{url}/trainees", 201, json=centre.trainee_body("李老师", "13900000001"), headers=contact
    )
    await centre.ok("POST", f"{url}/confirmation", headers=contact)
    one, two = (centre.trainee(t["id"], batch, zone) for t in (first, second))

    during = await centre.client.post("/v1/me/outcome", json=OUTCOME, headers=one)
    assert during.status_code == 409 and during.json()["code"] == "stay_not_over"
    clock.set(datetime(2019, 10, 8, tzinfo=UTC))
    uploaded = await centre.ok("POST", "/v1/me/outcome", 201, json=OUTCOME, headers=one)
    assert uploaded["trainee_id"] == first["id"]
    twice = await centre.client.post("/v1/me/outcome", json=OUTCOME, headers=one)
    assert twice.status_code == 409 and twice.json()["code"] == "outcome_exists"

    assert await container.outcomes.remind() == 0  # not yet in the last two weeks
    clock.set(datetime(2019, 12, 20, tzinfo=UTC))
    assert await container.outcomes.remind() == 1  # only the trainee without an outcome
    assert await container.outcomes.remind() == 0  # once
    doc = await container.infra.db["batches"].find_one({"_id": batch})
    keys = sorted(e["routing_key"] for e in doc["outbox"].values())
    assert keys.count("baseline.outcome_reminder_due.v1") == 1

    clock.set(datetime(2019, 12, 31, tzinfo=UTC))
    late = await centre.client.post("/v1/me/outcome", json=OUTCOME, headers=two)
    assert late.status_code == 409 and late.json()["code"] == "outcome_window_closed"
    status = {row["trainee_id"]: row for row in await centre.ok("GET", f"{url}/outcomes", headers=contact)}
    assert status[first["id"]]["uploaded"] and not status[first["id"]]["overdue"]
    assert status[second["id"]]["overdue"] and status[second["id"]]["due_on"] == "2019-12-29"
    assert await container.outcomes.remind() == 1  # the overdue event
    other = await centre.client.get(f"{url}/outcomes", headers=centre.contact("abc123"))
    assert other.status_code == 404
