"""Points bank: per-item caps, duplicates, redemption limits (also with 200 parallel redemptions),
expiry at the year boundary, and redemption racing expiry."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx

from hours.bootstrap import Container, build
from jijiao_contracts import Actor
from jijiao_contracts.enums import HourCategory
from jijiao_kit.clock import FixedClock, MovableClock
from jijiao_kit.errors import Conflict
from jijiao_stack.pytest_plugin import bearer

IN_2026 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
NEW_YEAR_2027 = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)  # 00:00 on 1 Jan 2027 in Beijing
TEACHER = "2026000001"


async def give(container: Container, points: int, year: int = 2026, ce: str = TEACHER) -> None:
    """Uncapped reward facts: 500 points each (workshop featured as host), plus 100s."""
    n = 0
    while points >= 500:
        await container.points.award(
            ce_number=ce, year=year, rule="workshop_featured_host", reference=f"w{n}", source="test"
        )
        points -= 500
        n += 1
    while points >= 100:
        await container.points.award(
            ce_number=ce, year=year, rule="active_workshop_host", reference=f"a{n}", source="test"
        )
        points -= 100
        n += 1


async def test_item_caps_and_duplicates(
    clock: MovableClock, client: httpx.AsyncClient, make_token: Any, container: Container
) -> None:
    clock.set(IN_2026)
    centre = bearer(make_token("remote_centre"))
    statuses = []
    for i in range(6):
        response = await client.post(
            "/v1/points-registrations",
            json={"ce_number": TEACHER, "year": 2026, "rule": "shared_resource", "reference": f"res-{i}"},
            headers=centre,
        )
        statuses.append((response.status_code, response.json().get("points")))
    assert statuses == [(201, 20)] * 5 + [(201, 0)]
    duplicate = await client.post(
        "/v1/points-registrations",
        json={"ce_number": TEACHER, "year": 2026, "rule": "shared_resource", "reference": "res-0"},
        headers=centre,
    )
    assert duplicate.status_code == 200 and duplicate.json()["status"] == "duplicate"
    unknown = await client.post(
        "/v1/points-registrations",
        json={"ce_number": TEACHER, "year": 2026, "rule": "nope", "reference": "x"},
        headers=centre,
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_points_rule"
    view = await client.get(
        f"/v1/teachers/{TEACHER}/years/2026/points", headers=bearer(make_token("teacher", ce_number=TEACHER))
    )
    body = view.json()
    assert body["balance"] == 100 and body["redeemed_hours"] == {"professional": 0, "elective": 0}
    assert len(body["entries"]) == 6
    stats = {s["rule"]: s for s in body["by_rule"]}
    assert stats["shared_resource"]["earned"] == 100 and stats["shared_resource"]["count"] == 6
    other = await client.get(
        f"/v1/teachers/{TEACHER}/years/2026/points", headers=bearer(make_token("teacher", ce_number="2026000002"))
    )
    assert other.status_code == 404


async def test_redemption_into_hours_with_both_409s(
    clock: MovableClock, client: httpx.AsyncClient, make_token: Any, container: Container
) -> None:
    clock.set(IN_2026)
    await give(container, 1500)
    teacher = bearer(make_token("teacher", ce_number=TEACHER))
    url = f"/v1/teachers/{TEACHER}/years/2026/redemptions"
    ok = await client.post(url, json={"category": "professional", "hours": 10}, headers=teacher)
    assert ok.status_code == 201, ok.text
    assert ok.json()["balance"] == 500 and ok.json()["entry"]["credited"] == 10
    capped = await client.post(url, json={"category": "professional", "hours": 1}, headers=teacher)
    assert capped.status_code == 409 and capped.json()["code"] == "redemption_cap"
    short = await client.post(url, json={"category": "elective", "hours": 6}, headers=teacher)
    assert short.status_code == 409 and short.json()["code"] == "insufficient_points"
    assert (await client.post(url, json={"category": "elective", "hours": 5}, headers=teacher)).status_code == 201
    assert (await client.post(url, json={"category": "public", "hours": 1}, headers=teacher)).status_code == 422
    assert (await client.post(url, json={"category": "elective", "hours": 1.5}, headers=teacher)).status_code == 422
    admin = await client.post(url, json={"category": "elective", "hours": 1}, headers=bearer(make_token("city_admin")))
    assert admin.status_code == 404
    hours = (await client.get(f"/v1/teachers/{TEACHER}/years/2026/hours", headers=teacher)).json()
    assert (hours["professional"], hours["elective"]) == (10, 5)
    points = (await client.get(f"/v1/teachers/{TEACHER}/years/2026/points", headers=teacher)).json()
    assert points["balance"] == 0 and points["redeemed_hours"] == {"professional": 10, "elective": 5}
    assert points["spent"] == 1500


async def test_200_parallel_redemptions_never_exceed_caps_or_balance(
    clock: MovableClock, client: httpx.AsyncClient, make_token: Any, container: Container
) -> None:
    clock.set(IN_2026)
    await give(container, 1500)  # enough for 15 hours, caps allow 20
    teacher = bearer(make_token("teacher", ce_number=TEACHER))
    url = f"/v1/teachers/{TEACHER}/years/2026/redemptions"
    bodies = [{"category": "professional" if i % 2 else "elective", "hours": 1} for i in range(200)]
    responses = await asyncio.gather(*(client.post(url, json=b, headers=teacher) for b in bodies))
    codes = [r.status_code for r in responses]
    assert codes.count(201) == 15 and codes.count(409) == 185
    account = await container.points.account(TEACHER, 2026)
    assert account["balance"] == 0 and account["spent"] == 1500
    assert account["redeemed_hours"]["professional"] <= 10 and account["redeemed_hours"]["elective"] <= 10
    assert sum(account["redeemed_hours"].values()) == 15
    ledger = container.infra.db["ledger"]
    assert await ledger.count_documents({"ce_number": TEACHER, "source": "points_redemption"}) == 15


async def test_parallel_redemptions_stop_at_the_category_cap(
    clock: MovableClock, client: httpx.AsyncClient, make_token: Any, container: Container
) -> None:
    clock.set(IN_2026)
    await give(container, 5000)
    teacher = bearer(make_token("teacher", ce_number=TEACHER))
    url = f"/v1/teachers/{TEACHER}/years/2026/redemptions"
    responses = await asyncio.gather(
        *(client.post(url, json={"category": "professional", "hours": 1}, headers=teacher) for _ in range(200))
    )
    assert [r.status_code for r in responses].count(201) == 10
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"redemption_cap"}
    assert (await container.points.account(TEACHER, 2026))["balance"] == 4000


async def test_points_expire_at_the_year_boundary(
    clock: MovableClock, client: httpx.AsyncClient, make_token: Any, container: Container
) -> None:
    clock.set(datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC))  # 23:59:59 Beijing
    await give(container, 300)
    admin = bearer(make_token("city_admin"))
    before = await client.post("/v1/admin/jobs/expire-points", headers=admin)
    assert before.json()["expired_accounts"] == 0
    clock.set(NEW_YEAR_2027)
    assert (
        await client.post("/v1/admin/jobs/expire-points", headers=bearer(make_token("teacher", ce_number=TEACHER)))
    ).status_code == 403
    after = await client.post("/v1/admin/jobs/expire-points", headers=admin)
    assert after.json()["expired_accounts"] == 1
    assert (await client.post("/v1/admin/jobs/expire-points", headers=admin)).json()["expired_accounts"] == 0
    account = await container.points.account(TEACHER, 2026)
    assert (account["balance"], account["expired"], account["closed"]) == (0, 300, True)
    assert account["entries"][-1]["type"] == "expiry"
    late = await client.post(
        f"/v1/teachers/{TEACHER}/years/2026/redemptions",
        json={"category": "elective", "hours": 1},
        headers=bearer(make_token("teacher", ce_number=TEACHER)),
    )
    assert late.status_code == 409 and late.json()["code"] == "points_expired"
    # a fact of the closed year arriving late earns nothing
    await container.points.award(
        ce_number=TEACHER, year=2026, rule="active_workshop_host", reference="late", source="test"
    )
    assert (await container.points.account(TEACHER, 2026))["balance"] == 0
    outbox = await container.infra.db["points_accounts"].find_one({"_id": f"{TEACHER}:2026"})
    types = {entry["routing_key"] for entry in (outbox or {}).get("outbox", {}).values()}
    assert "hours.points_expired.v1" in types


async def test_redemption_racing_expiry_never_spends_an_expired_point(
    clock: MovableClock, settings_env: dict[str, Any], container: Container
) -> None:
    """Two processes: one still in 2026 redeeming, one already in 2027 expiring, on the same store."""
    clock.set(datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC))
    await give(container, 2000)
    expirer = build(container.settings, clock=FixedClock(NEW_YEAR_2027))

    async def redeem(i: int) -> str:
        try:
            await container.points.redeem(
                ce_number=TEACHER,
                year=2026,
                category=HourCategory.ELECTIVE if i % 2 else HourCategory.PROFESSIONAL,
                hours=1,
                actor=Actor(subject="t"),
            )
            return "ok"
        except Conflict as exc:
            return exc.code

    results = await asyncio.gather(*(redeem(i) for i in range(40)), expirer.points.expire())
    outcomes = results[:-1]
    account = await container.points.account(TEACHER, 2026)
    redeemed = outcomes.count("ok")
    assert set(outcomes) <= {"ok", "points_expired", "redemption_cap", "insufficient_points"}
    assert account["closed"] and account["balance"] == 0
    assert account["spent"] == redeemed * 100
    assert account["spent"] + account["expired"] == 2000
    redemptions = [e for e in account["entries"] if e["type"] == "redemption"]
    assert len(redemptions) == redeemed
    await expirer.infra.close()


async def test_december_announces_each_balance_that_buys_an_hour_once(
    clock: MovableClock, client: httpx.AsyncClient, make_token: Any, container: Container
) -> None:
    """Earned points that were never redeemed are announced in December (PointsExpiring, for notify's
    reminder), only where they buy a whole hour, once per teacher and year, also when runs race."""
    clock.set(datetime(2026, 11, 30, 15, 0, tzinfo=UTC))  # 23:00 on 30 Nov in Beijing
    await give(container, 300, ce="2026000001")
    await container.points.award(
        ce_number="2026000001", year=2026, rule="shared_resource", reference="r0", source="test"
    )
    await give(container, 100, ce="2026000002")  # exactly one hour
    await container.points.award(
        ce_number="2026000003", year=2026, rule="shared_resource", reference="r1", source="test"
    )  # 20 points: buys nothing
    await give(container, 600, year=2025, ce="2026000004")  # another year
    admin = bearer(make_token("city_admin"))
    november = await client.post("/v1/admin/jobs/remind-expiring-points", headers=admin)
    assert november.json()["reminded_accounts"] == 0
    clock.set(datetime(2026, 11, 30, 16, 0, tzinfo=UTC))  # 00:00 on 1 Dec in Beijing
    forbidden = await client.post(
        "/v1/admin/jobs/remind-expiring-points", headers=bearer(make_token("teacher", ce_number=TEACHER))
    )
    assert forbidden.status_code == 403
    racing = await asyncio.gather(*(container.points.remind_expiring(batch_size=1) for _ in range(5)))
    assert sum(racing) == 2
    assert (await client.post("/v1/admin/jobs/remind-expiring-points", headers=admin)).json() == {
        "reminded_accounts": 0
    }
    announced: dict[str, list[tuple[int, int]]] = {}
    async for doc in container.infra.db["points_accounts"].find({}, {"outbox": 1}):
        for entry in (doc.get("outbox") or {}).values():
            if entry["routing_key"] == "hours.points_expiring.v1":
                payload = json.loads(entry["body"])["payload"]
                announced.setdefault(payload["ce_number"], []).append((payload["balance"], payload["redeemable_hours"]))
    assert announced == {"2026000001": [(320, 3)], "2026000002": [(100, 1)]}
    # the balance keeps moving after the announcement; the teacher is not told twice
    await give(container, 200, ce="2026000002")
    assert await container.points.remind_expiring() == 0
    # a balance that grows past one hour later in December is announced at the next run
    await give(container, 100, ce="2026000003")
    assert await container.points.remind_expiring() == 1
