from __future__ import annotations

import json
from typing import Any

from jijiao_stack.pytest_plugin import bearer

YEAR = "2019-2020"


async def test_the_centre_manages_bases_zones_and_years(centre: Any, make_token: Any) -> None:
    base = await centre.base("北京一零一中学", "senior")
    zone = await centre.zone("广州南沙实验区")
    year = await centre.year()
    assert year["year"] == YEAR and year["demand_deadline"].startswith("2019-07-15T16:00:00")
    bases = await centre.ok("GET", "/v1/bases")
    assert [b["id"] for b in bases] == [base]

    client = centre.client
    duplicate = await client.post(
        "/v1/zones",
        json={"name": "广州南沙实验区", "contact": {"name": "x", "mobile": "13700000009"}},
        headers=centre.headers,
    )
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "zone_exists"
    by_teacher = await client.post("/v1/bases", json={}, headers=bearer(make_token("teacher")))
    assert by_teacher.status_code in (403, 422)
    by_contact = await client.post(
        "/v1/zones", json={"name": "x", "contact": {"name": "x", "mobile": "13700000009"}}, headers=centre.contact(zone)
    )
    assert by_contact.status_code == 403 and by_contact.json()["code"] == "centre_only"

    own = await client.get(f"/v1/zones/{zone}", headers=centre.contact(zone))
    other = await client.get(f"/v1/zones/{zone}", headers=centre.contact("abc123"))
    assert own.status_code == 200 and own.json()["contact"]["mobile"] == "13700000001"
    assert other.status_code == 404 and other.json()["code"] == "zone_not_found"
    listed = await client.get("/v1/zones", headers=centre.contact(zone))
    assert [z["id"] for z in listed.json()] == [zone]


async def test_years_are_validated(centre: Any) -> None:
    client = centre.client
    bad_year = await client.post(
        "/v1/years",
        json={
            "year": "2019-2021",
            "demand_deadline": "2019-07-15T00:00:00Z",
            "personnel_deadline": "2019-08-15T00:00:00Z",
            "report_deadline": "2019-09-05T00:00:00Z",
        },
        headers=centre.headers,
    )
    assert bad_year.status_code == 422 and bad_year.json()["code"] == "year_invalid"
    order = await client.post(
        "/v1/years",
        json={
            "year": YEAR,
            "demand_deadline": "2019-09-15T00:00:00Z",
            "personnel_deadline": "2019-08-15T00:00:00Z",
            "report_deadline": "2019-09-05T00:00:00Z",
        },
        headers=centre.headers,
    )
    assert order.status_code == 422 and order.json()["code"] == "deadline_order"
    await centre.year()
    again = await client.post(
        "/v1/years",
        json={
            "year": YEAR,
            "demand_deadline": "2019-07-15T00:00:00Z",
            "personnel_deadline": "2019-08-15T00:00:00Z",
            "report_deadline": "2019-09-05T00:00:00Z",
        },
        headers=centre.headers,
    )
    assert again.status_code == 409 and again.json()["code"] == "year_exists"
    missing = await client.get("/v1/years/2030-2031", headers=centre.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "year_not_found"
    moved = {
        "demand_deadline": "2019-07-20T16:00:00Z",
        "personnel_deadline": "2019-08-25T16:00:00Z",
        "report_deadline": "2019-09-05T16:00:00Z",
    }
    changed = await centre.ok("PUT", f"/v1/years/{YEAR}/deadlines", json=moved)
    assert changed["demand_deadline"].startswith("2019-07-20T16:00:00")
    wrong_order = await client.put(
        f"/v1/years/{YEAR}/deadlines", json={**moved, "demand_deadline": "2019-10-01T00:00:00Z"}, headers=centre.headers
    )
    assert wrong_order.status_code == 422 and wrong_order.json()["code"] == "deadline_order"
    by_contact = await client.put(f"/v1/years/{YEAR}/deadlines", json=moved, headers=centre.contact("abc123"))
    assert by_contact.status_code == 403
    unknown = await client.put("/v1/years/2031-2032/deadlines", json=moved, headers=centre.headers)
    assert unknown.status_code == 404


async def test_the_centre_changes_a_zone_contact_and_the_login_follows(centre: Any, container: Any) -> None:
    zone = await centre.zone("南沙实验区")
    body = {"name": "王老师", "mobile": "13700000002", "email": "wang@example.com"}
    by_contact = await centre.client.put(f"/v1/zones/{zone}/contact", json=body, headers=centre.contact(zone))
    assert by_contact.status_code == 403
    changed = await centre.ok("PUT", f"/v1/zones/{zone}/contact", json=body)
    assert changed["contact"] == body
    doc = await container.infra.db["zones"].find_one({"_id": zone})
    mobiles = sorted(json.loads(e["body"])["payload"]["contact_mobile"] for e in doc["outbox"].values())
    assert mobiles == ["13700000001", "13700000002"]  # ZoneContactAppointed for each contact
    missing = await centre.client.put("/v1/zones/abcdef123456/contact", json=body, headers=centre.headers)
    assert missing.status_code == 404


async def test_only_the_centre_sees_which_zones_were_rewarded(centre: Any) -> None:
    await centre.year()
    zone = await centre.zone("南沙实验区")
    other = await centre.zone("天河实验区", "13700000002")
    await centre.ok("POST", f"/v1/years/{YEAR}/rewards", 201, json={"zone_id": zone})
    assert (await centre.ok("GET", f"/v1/years/{YEAR}"))["rewarded_zones"] == [zone]
    for headers in (centre.contact(zone), centre.contact(other), centre.trainee("abcdef123456", "abcdef123456", other)):
        seen = await centre.ok("GET", f"/v1/years/{YEAR}", headers=headers)
        assert seen["year"] == YEAR and "rewarded_zones" not in seen
        assert zone not in json.dumps(seen)


async def test_the_centre_corrects_bases_and_zones_and_batches_follow_the_names(centre: Any) -> None:
    await centre.year()
    base = await centre.base("北京小学")
    other = await centre.base("上海小学")
    batch = await centre.batch(base)
    zone = await centre.zone("南沙实验区")
    await centre.zone("天河实验区", "13700000002")
    await centre.allocate(batch, zone)

    renamed = await centre.ok("PATCH", f"/v1/bases/{base}", json={"name": "北京第一小学", "region": "北京海淀"})
    assert (renamed["name"], renamed["region"], renamed["stage"]) == ("北京第一小学", "北京海淀", "primary")
    await centre.ok("PATCH", f"/v1/zones/{zone}", json={"name": "广州南沙实验区"})
    stored = await centre.ok("GET", f"/v1/batches/{batch}")
    assert stored["base_name"] == "北京第一小学"
    assert [a["zone_name"] for a in stored["allocations"]] == ["广州南沙实验区"]

    taken = await centre.client.patch(f"/v1/bases/{other}", json={"name": "北京第一小学"}, headers=centre.headers)
    assert taken.status_code == 409 and taken.json()["code"] == "base_exists"
    taken = await centre.client.patch(f"/v1/zones/{zone}", json={"name": "天河实验区"}, headers=centre.headers)
    assert taken.status_code == 409 and taken.json()["code"] == "zone_exists"
    missing = await centre.client.patch("/v1/zones/abc123", json={"name": "新实验区"}, headers=centre.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "zone_not_found"
    by_contact = await centre.client.patch(f"/v1/zones/{zone}", json={"name": "我的区"}, headers=centre.contact(zone))
    assert by_contact.status_code == 403
    assert (await centre.ok("GET", f"/v1/zones/{zone}"))["name"] == "广州南沙实验区"
