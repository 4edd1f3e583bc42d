"""The demo data (``make up``): a current year, a zone whose batch runs now, a confirmed trainee; the
scopes of the demo logins ``zonecontact`` and ``trainee`` reach them. Seeding twice changes nothing."""

from __future__ import annotations

from typing import Any

from baseline.bootstrap import build
from baseline.entrypoints.api.app import create_app
from baseline.entrypoints.seed_demo import BATCH_ID, TRAINEE_ID, ZONE_ID, seed
from baseline.settings import Settings
from jijiao_stack.pytest_plugin import api_client, bearer


async def test_demo_year_zone_and_trainee(settings_env: dict[str, Any], make_token: Any) -> None:
    container = build(Settings(**settings_env))
    first = await seed(container)
    assert await seed(container) == first
    contact = bearer(make_token("zone_contact", zone_id=ZONE_ID))
    trainee = bearer(make_token("trainee", trainee_id=TRAINEE_ID, batch_id=BATCH_ID, zone_id=ZONE_ID))
    async with api_client(create_app(container)) as client:
        quota = await client.get(f"/v1/years/{first['year']}/quota", headers=contact)
        assert quota.status_code == 200 and quota.json()["remaining_allocation_places"] == 30
        assert quota.json()["remaining_demand_places"] == 30  # the approved demand the demo batch answers
        demands = (await client.get(f"/v1/years/{first['year']}/demands", headers=contact)).json()
        assert [(d["status"], d["unallocated"]) for d in demands] == [("approved", 0)]
        roster = await client.get(f"/v1/batches/{BATCH_ID}/zones/{ZONE_ID}/trainees", headers=contact)
        assert roster.status_code == 200 and roster.json()["confirmed"] and len(roster.json()["trainees"]) == 1
        assert (await client.post("/v1/me/report", headers=trainee)).status_code == 200
        assert (await client.post(f"/v1/batches/{BATCH_ID}/check-in", headers=trainee)).status_code == 200
        demand = await client.post(
            f"/v1/years/{first['year']}/demands",
            json={"stage": "primary", "places": 5, "purpose": "跟岗学习", "demand_type": "shadowing"},
            headers=contact,
        )
        assert demand.status_code == 201, demand.text
        # Every hold the seed and the demand took is used: the repair job gives nothing back.
        assert await container.repair.run(grace_ms=0) == 0
    await container.infra.close()
