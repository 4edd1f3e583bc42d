"""Fixtures of the baseline integration tests: the API on this test's store with a clock tests move,
and a helper that sets up a year the way the centre does (bases, zones, batches)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from baseline.adapters import mongo
from baseline.bootstrap import Container, build
from baseline.entrypoints.api.app import create_app
from baseline.settings import Settings
from jijiao_kit.clock import FixedClock
from jijiao_stack.pytest_plugin import api_client, bearer

YEAR = "2019-2020"
DEADLINES = {
    "demand_deadline": "2019-07-15T16:00:00Z",
    "personnel_deadline": "2019-08-20T16:00:00Z",
    "report_deadline": "2019-09-05T16:00:00Z",
}
START = datetime(2019, 7, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
async def container(settings_env: dict[str, Any], clock: FixedClock) -> AsyncIterator[Container]:
    container = build(Settings(**settings_env, step_up_required=False), clock=clock)
    await mongo.ensure_indexes(container.infra.db)
    yield container
    await container.infra.close()


@pytest.fixture
async def client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(create_app(container)) as http:
        yield http


@dataclass
class Centre:
    """Drives the API as the centre would; ``zone(name)`` returns a zone contact's headers."""

    client: httpx.AsyncClient
    make_token: Callable[..., str]
    headers: dict[str, str]
    zones: dict[str, str] = field(default_factory=dict)

    async def ok(self, method: str, url: str, expect: int = 200, **kwargs: Any) -> Any:
        kwargs.setdefault("headers", self.headers)
        response = await self.client.request(method, url, **kwargs)
        assert response.status_code == expect, response.text
        return response.json() if response.content else None

    async def year(self, year: str = YEAR, **deadlines: str) -> Any:
        return await self.ok("POST", "/v1/years", 201, json={"year": year, **DEADLINES, **deadlines})

    async def base(self, name: str, stage: str = "primary") -> str:
        body = {
            "name": name,
            "stage": stage,
            "region": "北京",
            "contact": {"name": "基地联系人", "mobile": "13800000000"},
        }
        return str((await self.ok("POST", "/v1/bases", 201, json=body))["id"])

    async def zone(self, name: str, mobile: str = "13700000001") -> str:
        body = {"name": name, "contact": {"name": f"{name}联系人", "mobile": mobile, "email": "zone@example.com"}}
        zone_id = str((await self.ok("POST", "/v1/zones", 201, json=body))["id"])
        self.zones[name] = zone_id
        return zone_id

    async def batch(
        self,
        base_id: str,
        capacity: int = 2,
        starts_on: str = "2019-09-16",
        ends_on: str = "2019-09-29",
        year: str = YEAR,
    ) -> str:
        body = {"base_id": base_id, "starts_on": starts_on, "ends_on": ends_on, "capacity": capacity}
        return str((await self.ok("POST", f"/v1/years/{year}/batches", 201, json=body))["id"])

    async def allocate(self, batch_id: str, zone_id: str, places: int = 5, demand_id: str | None = None) -> Any:
        """Allocate ``batch_id`` to ``zone_id`` as the centre does: against an approved demand of the zone
        (one is submitted by the zone's contact and approved first unless ``demand_id`` is given)."""
        demand_id = demand_id or await self.approved_demand(batch_id, zone_id, places)
        body = {"demand_id": demand_id, "places": places}
        return await self.ok("POST", f"/v1/batches/{batch_id}/allocations", 201, json=body)

    async def approved_demand(self, batch_id: str, zone_id: str, places: int = 5) -> str:
        batch = await self.ok("GET", f"/v1/batches/{batch_id}")
        body = self.demand(stage=batch["stage"], places=places)
        demand = await self.ok(
            "POST", f"/v1/years/{batch['year']}/demands", 201, json=body, headers=self.contact(zone_id)
        )
        await self.ok("POST", f"/v1/demands/{demand['id']}/review", json={"approve": True})
        return str(demand["id"])

    def contact(self, zone_id: str) -> dict[str, str]:
        return bearer(self.make_token("zone_contact", zone_id=zone_id))

    def trainee(self, trainee_id: str, batch_id: str, zone_id: str) -> dict[str, str]:
        return bearer(self.make_token("trainee", trainee_id=trainee_id, batch_id=batch_id, zone_id=zone_id))

    @staticmethod
    def demand(stage: str = "primary", places: int = 5, **extra: Any) -> dict[str, Any]:
        return {"stage": stage, "places": places, "purpose": "学习课程改革经验", "demand_type": "exchange", **extra}

    @staticmethod
    def trainee_body(name: str = "张老师", mobile: str = "13900000000", **extra: Any) -> dict[str, Any]:
        return {
            "name": name,
            "gender": "female",
            "post": "副校长",
            "mobile": mobile,
            "employer": "南沙一小",
            "subject": "语文",
            **extra,
        }


@pytest.fixture
def centre(client: httpx.AsyncClient, make_token: Callable[..., str]) -> Centre:
    return Centre(client, make_token, bearer(make_token("base_admin")))
