"""End to end on real processes: enrollment registers a teacher (hours opens the account from the
event), a passed course's ``ResultRegistered`` reaches hours through the broker (delivered twice and
re-registered: counted once), an organiser registers more hours over HTTP, and the teacher's year
totals and verification show it.

The ``ResultRegistered`` envelope is published on the system's exchange by the test itself, exactly as
enrollment's outbox relay publishes it: driving enrollment's results endpoint needs a whole term,
catalogue, selection and payment set up first, which enrollment's own tests cover."""

from __future__ import annotations

import uuid
from typing import Any

import aio_pika
import pytest

from jijiao_contracts import Envelope, Topology
from jijiao_contracts.enums import HourCategory
from jijiao_contracts.events.enrollment import ResultRegistered
from jijiao_stack.pytest_plugin import RunningSystem, eventually

pytestmark = pytest.mark.e2e

SCHOOL = {
    "name": "天河区学时端到端小学",
    "school_type": "小学",
    "seal_name": "广州市天河区学时端到端小学",
    "town": "石牌街",
    "nature": "公办",
    "head_name": "钱校长",
    "head_mobile": "13811113333",
    "district": "天河区",
}


async def publish(system: RunningSystem, envelope: Envelope) -> None:
    connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(Topology(system.name_prefix).events_exchange)
        await exchange.publish(
            aio_pika.Message(
                envelope.model_dump_json().encode(),
                message_id=envelope.event_id,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=envelope.routing_key,
        )


async def test_passed_course_reaches_the_teachers_year_totals(running_system: RunningSystem) -> None:
    token = await running_system.login("cityadmin", "jijiao-demo")
    async with running_system.client("enrollment", token) as enrollment:
        school = await enrollment.post("/v1/schools", json=SCHOOL)
        assert school.status_code == 201, school.text
    teacher = await running_system.register_teacher(
        token, school.json()["id"], "孙丽", subject="英语", stage=None, number="110105198001010016", phone="13912340001"
    )
    ce_number = teacher.ce_number
    hours_path = f"/v1/teachers/{ce_number}/years/2026/hours"

    async def hours() -> dict[str, Any] | None:
        async with running_system.client("hours", token) as client:
            response = await client.get(hours_path)
        return response.json() if response.status_code == 200 else None

    opened = await eventually(hours, timeout=30)
    assert opened["total"] == 0

    result_id = uuid.uuid4().hex
    event = ResultRegistered(
        result_id=result_id,
        term="2602",
        year=2026,
        ce_number=ce_number,
        school_id=school.json()["id"],
        district="天河区",
        course_code="P2602-01",
        course_name="新课标下的课堂教学设计",
        programme="city",
        passed=True,
        category=HourCategory.PROFESSIONAL,
        hours=30,
        source="platform_course",
        registered_by="institution:e2e",
    )
    envelope = Envelope.wrap(event, producer="enrollment")
    await publish(running_system, envelope)
    await publish(running_system, envelope)  # redelivered
    await publish(running_system, Envelope.wrap(event, producer="enrollment"))  # registered again

    async def credited() -> dict[str, Any] | None:
        body = await hours()
        return body if body and body["professional"] == 30 else None

    body = await eventually(credited, timeout=30)
    assert len(body["entries"]) == 1 and body["entries"][0]["reference"]["id"] == result_id

    async with running_system.client("hours", token) as client:
        registered = await client.post(
            "/v1/hour-registrations",
            json={
                "ce_number": ce_number,
                "year": 2026,
                "source": "training_class",
                "category": "professional",
                "hours": 20,
                "reference": f"PX-{result_id[:8]}",
            },
        )
        assert registered.status_code == 201, registered.text
        public = await client.post(
            "/v1/hour-registrations",
            json={
                "ce_number": ce_number,
                "year": 2026,
                "source": "platform_course",
                "category": "public",
                "hours": 24,
                "reference": f"GX-{result_id[:8]}",
            },
        )
        assert public.status_code == 201
        totals = (await client.get(hours_path)).json()
        verification = (await client.get(f"/v1/teachers/{ce_number}/years/2026/verification")).json()
    assert (totals["public"], totals["professional"], totals["elective"], totals["total"], totals["carried_in"]) == (
        24,
        50,
        0,
        74,
        0,
    )
    assert verification["passed"] is True and verification["carried_out"] == 8
