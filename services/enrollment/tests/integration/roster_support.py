"""Roster and accounts test helper: an in-process API on the real store, schools and teachers made
through the API, valid ID numbers (``jijiao_stack.pytest_plugin``), and a look into a document's outbox.

Test modules import it with ``sys.path`` (the suite runs in importlib mode)."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from enrollment.bootstrap import Container, build
from enrollment.entrypoints.api.app import create_app
from enrollment.settings import Settings
from jijiao_stack.pytest_plugin import api_client, bearer
from jijiao_stack.pytest_plugin import id_number as plugin_id_number

_serial = itertools.count(1)


def id_number(serial: int | None = None, *, born: str = "19850101") -> str:
    """A valid ID number, a new one per call in this test session (unless ``serial`` is given)."""
    return plugin_id_number(serial if serial is not None else next(_serial), born=born)


@dataclass
class Env:
    container: Container
    client: httpx.AsyncClient
    make_token: Callable[..., str]

    @property
    def db(self) -> AsyncDatabase[dict[str, Any]]:
        return self.container.infra.db

    def city(self) -> dict[str, str]:
        return bearer(self.make_token("city_admin", subject="account:city"))

    def district(self, district: str = "天河区") -> dict[str, str]:
        return bearer(self.make_token("district_admin", subject=f"account:d-{district}", district=district))

    def school_admin(self, school: dict[str, Any]) -> dict[str, str]:
        return bearer(
            self.make_token(
                "school_admin",
                subject=f"account:sa-{school['id']}",
                school_id=school["id"],
                district=school["district"],
            )
        )

    async def school(self, name: str, district: str = "天河区") -> dict[str, Any]:
        response = await self.client.post(
            "/v1/schools",
            json={
                "name": name,
                "school_type": "小学",
                "seal_name": f"广州市{name}",
                "town": "天河南街",
                "nature": "公办",
                "head_name": "林校长",
                "head_mobile": "13800000010",
                "district": district,
            },
            headers=self.city(),
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def teacher(self, school: dict[str, Any], name: str = "陈晓明", **fields: Any) -> dict[str, Any]:
        body = {"name": name, "id_number": id_number(), "mobile": "13900000001", **fields}
        response = await self.client.post(
            f"/v1/schools/{school['id']}/teachers", json=body, headers=self.school_admin(school)
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def outbox_types(self, collection: str, key: str) -> list[str]:
        """Event types waiting in a document's outbox (the relay is not running in API tests)."""
        doc = await self.db[collection].find_one({"_id": key}, {"outbox": 1})
        entries = sorted((doc or {}).get("outbox", {}).values(), key=lambda entry: entry["seq"])
        return [json.loads(entry["body"])["type"] for entry in entries]

    async def outbox_payloads(self, collection: str, key: str, event_type: str) -> list[dict[str, Any]]:
        doc = await self.db[collection].find_one({"_id": key}, {"outbox": 1})
        bodies = [json.loads(entry["body"]) for entry in (doc or {}).get("outbox", {}).values()]
        return [body["payload"] for body in bodies if body["type"] == event_type]


@asynccontextmanager
async def roster_env(
    settings_env: dict[str, Any], make_token: Callable[..., str], **overrides: Any
) -> AsyncIterator[Env]:
    container = build(Settings(**{**settings_env, **overrides}))
    async with api_client(create_app(container)) as client:
        yield Env(container, client, make_token)
