"""Outcomes within three months (item 9), reminders by a periodic job and who is overdue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

OUTCOME = {"title": "研修成果", "summary": "课堂观察与教研组建设的体会", "shared_on": "2019-10-01"}


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


async def test_the_sharing_session_is_recorded_within_the_window_and_shown_to_the_centre_and_the_zone(
    centre: Any, clock: Any, container: Any
) -> None:
    """Manual 四.7: within three months after the stay each trainee gives a sharing session (分享报告) in
    their zone. The stay ends 2019-09-29; the window closes 2019-12-29 (Shanghai days)."""
    await centre.year()
    batch = await centre.batch(await centre.base("北京小学"))
    zone = await centre.zone("南沙实验区")
    await centre.allocate(batch, zone)
    url, contact = f"/v1/batches/{batch}/zones/{zone}", centre.contact(zone)
    first = await centre.ok("POST", f"{url}/trainees", 201, json=centre.trainee_body(), headers=contact)
    second = await centre.ok(
        "POST", f"{url}/trainees", 201, json=centre.trainee_body("李老师", "13900000001"), headers=contact
    )
    await centre.ok("POST", f"{url}/confirmation", headers=contact)
    one, two = (centre.trainee(t["id"], batch, zone) for t in (first, second))
    client, sharing = centre.client, "/v1/me/outcome/sharing"

    async def refused(body: dict[str, Any], headers: dict[str, str]) -> tuple[int, str]:
        answer = await client.put(sharing, json=body, headers=headers)
        return answer.status_code, answer.json()["code"]

    clock.set(datetime(2019, 9, 28, 16, 30, tzinfo=UTC))  # 00:30 on the 29th in Shanghai: the last day
    assert (await centre.ok("PUT", sharing, json={"shared_on": "2019-09-29"}, headers=one))["shared_on"] == "2019-09-29"
    clock.set(datetime(2019, 9, 28, 15, 30, tzinfo=UTC))  # 23:30 on the 28th in Shanghai: still the stay
    assert await refused({"shared_on": "2019-09-28"}, two) == (409, "sharing_not_open")
    clock.set(datetime(2019, 10, 20, 2, 0, tzinfo=UTC))
    assert await refused({"shared_on": "2019-09-28"}, two) == (422, "sharing_date_invalid")  # before the stay ended
    assert await refused({"shared_on": "2019-10-21"}, two) == (422, "sharing_date_invalid")  # tomorrow
    assert (await refused({"shared_on": "2019-10-19", "sharing_note": "全区\x00教研"}, two))[0] == 422
    by_contact = await client.put(sharing, json={"shared_on": "2019-10-19"}, headers=contact)
    assert by_contact.status_code in (403, 404)
    corrected = await centre.ok(
        "PUT", sharing, json={"shared_on": "2019-10-18", "sharing_note": "面向全区语文教师"}, headers=one
    )
    assert (corrected["shared_on"], corrected["sharing_note"]) == ("2019-10-18", "面向全区语文教师")
    assert corrected["trainee_id"] == first["id"] and corrected["recorded_at"].startswith("2019-10-20T02:00:00")
    # Given with the report, the sharing session is checked the same way (a future day was accepted).
    future = await client.post(
        "/v1/me/outcome", json={"title": "成果", "summary": "做法", "shared_on": "2019-11-20"}, headers=two
    )
    assert future.status_code == 422 and future.json()["code"] == "sharing_date_invalid"
    assert await container.infra.db["outcomes"].count_documents({}) == 0  # a refused request leaves no trace

    status = {r["trainee_id"]: r for r in await centre.ok("GET", f"{url}/outcomes", headers=contact)}
    assert (status[first["id"]]["shared"], status[first["id"]]["shared_on"]) == (True, "2019-10-18")
    assert not status[second["id"]]["shared"] and not status[second["id"]]["sharing_overdue"]

    clock.set(datetime(2019, 12, 29, 15, 59, tzinfo=UTC))  # 23:59 on the 29th in Shanghai: the last day
    await centre.ok("POST", "/v1/me/outcome", 201, json={"title": "成果", "summary": "做法"}, headers=two)
    clock.set(datetime(2019, 12, 29, 16, 1, tzinfo=UTC))  # the 30th in Shanghai: closed
    assert await refused({"shared_on": "2019-12-20"}, two) == (409, "sharing_window_closed")
    status = {r["trainee_id"]: r for r in await centre.ok("GET", f"{url}/outcomes")}
    assert status[second["id"]]["uploaded"] and not status[second["id"]]["overdue"]
    assert status[second["id"]]["sharing_overdue"] and not status[first["id"]]["sharing_overdue"]

    rows = {r["trainee_id"]: r for r in await centre.ok("GET", "/v1/years/2019-2020/archive", headers=contact)}
    assert (rows[first["id"]]["sharing_recorded"], rows[first["id"]]["shared_on"]) == (True, "2019-10-18")
    assert (rows[second["id"]]["sharing_recorded"], rows[second["id"]]["sharing_overdue"]) == (False, True)
    [stats] = await centre.ok("GET", "/v1/years/2019-2020/statistics")
    assert (stats["trainees"], stats["outcomes"], stats["shared"]) == (2, 1, 1)
