"""The foundation's vertical slice across real processes: a city admin creates a school and a
teacher on enrollment; hours opens the account, notify stores the contact and sends the Chinese
welcome SMS, studio and baseline record the teacher; repeating the event changes nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import aio_pika
import pytest

from jijiao_contracts import Envelope, Topology
from jijiao_contracts.events.enrollment import TeacherRegistered
from jijiao_stack.pytest_plugin import RunningSystem, eventually

pytestmark = pytest.mark.e2e

SCHOOL = {
    "name": "天河区端到端测试小学",
    "school_type": "小学",
    "seal_name": "广州市天河区端到端测试小学",
    "town": "石牌街",
    "nature": "公办",
    "head_name": "赵校长",
    "head_mobile": "13811112222",
    "district": "天河区",
}
TEACHER = {"name": "周明", "id_number": "11010519491231002x", "mobile": "13912345678", "subject": "数学"}


async def get_json(system: RunningSystem, service: str, path: str, token: str) -> Any:
    async with system.client(service, token) as client:
        response = await client.get(path)
    return response.json() if response.status_code == 200 else None


async def test_teacher_registration_reaches_every_service_once(running_system: RunningSystem) -> None:
    token = await running_system.login("cityadmin", "jijiao-demo")
    correlation_id = f"e2e-{uuid.uuid4().hex[:8]}"
    async with running_system.client("enrollment", token) as enrollment:
        school = await enrollment.post("/v1/schools", json=SCHOOL)
        assert school.status_code == 201, school.text
        created = await enrollment.post(
            f"/v1/schools/{school.json()['id']}/teachers", json=TEACHER, headers={"X-Correlation-ID": correlation_id}
        )
        assert created.status_code == 201, created.text
        again = await enrollment.post(f"/v1/schools/{school.json()['id']}/teachers", json=TEACHER)
    teacher = created.json()
    ce_number = teacher["ce_number"]
    assert teacher["id_number"] == "11010519491231002X"
    assert again.status_code == 409 and again.json()["code"] == "teacher_exists"

    hours = await eventually(
        lambda: get_json(running_system, "hours", f"/v1/teachers/{ce_number}/years/2026/hours", token), timeout=20
    )
    assert (hours["public"], hours["professional"], hours["elective"], hours["total"]) == (0, 0, 0, 0)

    async def welcome() -> list[dict[str, Any]]:
        messages = await get_json(running_system, "notify", f"/v1/messages?to={TEACHER['mobile']}", token) or []
        return [m for m in messages if m["template"] == "teacher_welcome" and m["status"] == "sent"]

    (message,) = await eventually(welcome, timeout=20)
    assert ce_number in message["text"] and "周明" in message["text"]
    for service in ("studio", "baseline"):

        async def directory_entry(service: str = service) -> Any:
            return await get_json(running_system, service, f"/v1/directory/teachers/{ce_number}", token)

        entry = await eventually(directory_entry, timeout=20)
        assert entry["name"] == "周明" and entry["school_id"] == school.json()["id"]

    # The correlation id given on the HTTP call travels with the event into the consumers' logs.
    log = (running_system.var_dir / "log" / "notify-worker.log").read_text()
    assert any(
        json.loads(line).get("correlation_id") == correlation_id for line in log.splitlines() if line.startswith("{")
    )

    # Deliver the same event again: nothing changes anywhere.
    event_id = message["id"].split(":")[0]
    await republish(running_system, event_id, ce_number, school.json()["id"])
    await republish(running_system, event_id, ce_number, school.json()["id"])
    async with running_system.client("notify", token) as notify:
        await eventually(lambda: _queue_empty(running_system, "notify"), timeout=20)
        messages = (await notify.get(f"/v1/messages?to={TEACHER['mobile']}")).json()
    assert [m["template"] for m in messages] == ["teacher_welcome"]


async def _queue_empty(system: RunningSystem, service: str) -> bool:
    connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(Topology(system.name_prefix).service_queue(service), passive=True)
        return queue.declaration_result.message_count == 0


async def republish(system: RunningSystem, event_id: str, ce_number: str, school_id: str) -> None:
    event = TeacherRegistered(
        ce_number=ce_number,
        name="周明",
        school_id=school_id,
        school_name=SCHOOL["name"],
        district="天河区",
        mobile=TEACHER["mobile"],
        registered_year=2026,
    )
    envelope = Envelope.wrap(event, producer="enrollment", event_id=event_id)
    connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(Topology(system.name_prefix).events_exchange)
        await exchange.publish(
            aio_pika.Message(envelope.model_dump_json().encode(), message_id=event_id, content_type="application/json"),
            routing_key=envelope.routing_key,
        )
