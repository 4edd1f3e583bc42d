"""The hours bank opens an account when enrollment registers a teacher, once, whatever the redelivery."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from hours.bootstrap import build
from hours.entrypoints.api.app import create_app
from hours.entrypoints.worker import create_worker
from hours.settings import Settings
from jijiao_contracts import Envelope
from jijiao_contracts.events.enrollment import TeacherRegistered
from jijiao_kit.messaging import EventPublisher
from jijiao_stack.pytest_plugin import api_client, bearer, eventually, running


def registered(ce_number: str) -> TeacherRegistered:
    return TeacherRegistered(
        ce_number=ce_number,
        name="陈老师",
        school_id="s1",
        school_name="一小",
        district="天河区",
        mobile="13900000009",
        registered_year=2026,
    )


@pytest.mark.parametrize("batch_size", [200, 1], ids=["in-batches", "one-by-one"])
async def test_teacher_registered_opens_a_zero_account(
    settings_env: dict[str, Any], make_token: Any, batch_size: int, drained: Any
) -> None:
    container = build(Settings(**settings_env, consumer_batch_size=batch_size))
    worker = create_worker(container)
    envelope = Envelope.wrap(registered("2026000101"), producer="enrollment", occurred_at=datetime.now(UTC))
    async with running(worker):
        publisher = EventPublisher(worker.broker, container.settings.topology)
        for _ in range(3):  # the same event delivered three times
            await publisher.publish_raw(
                envelope.routing_key,
                envelope.model_dump_json().encode(),
                event_id=envelope.event_id,
                correlation_id=None,
            )
        await eventually(lambda: container.teachers.get("2026000101"))
    await drained(container.settings, lambda: create_worker(container))  # the duplicates were consumed too
    app = create_app(build(Settings(**settings_env)))
    async with api_client(app) as client:
        response = await client.get(
            "/v1/teachers/2026000101/years/2026/hours", headers=bearer(make_token("city_admin"))
        )
        missing = await client.get("/v1/teachers/2026999999/years/2026/hours", headers=bearer(make_token("city_admin")))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["public"], body["professional"], body["elective"], body["total"]) == (0, 0, 0, 0)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert await container.infra.db["teachers"].count_documents({}) == 1
