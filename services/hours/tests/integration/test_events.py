"""Consumed events: duplicates and reorderings never change what is credited; roster events keep the
scope current; studio facts feed the points bank and the studio cap."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from hours.bootstrap import Container, create_worker
from jijiao_contracts import Envelope, IntegrationEvent
from jijiao_contracts.enums import HourCategory
from jijiao_contracts.events.enrollment import ResultRegistered, TeacherRegistered, TeacherTransferred
from jijiao_contracts.events.studio import PointsFactRecorded, StudioTrainingRecorded
from jijiao_kit.messaging import EventPublisher
from jijiao_stack.pytest_plugin import bearer, eventually, running


def result(
    ce: str,
    result_id: str,
    hours: float,
    *,
    source: str = "school_based",
    category: str = "elective",
    passed: bool = True,
    year: int = 2026,
) -> ResultRegistered:
    return ResultRegistered(
        result_id=result_id,
        term="2602",
        year=year,
        ce_number=ce,
        school_id="s1",
        district="天河区",
        course_code=f"C-{result_id}",
        course_name="课程",
        programme="school",
        passed=passed,
        category=HourCategory(category),
        hours=hours,
        source=source,
        registered_by="school:s1",
    )


async def publish(
    publisher: EventPublisher,
    event: IntegrationEvent,
    *,
    event_id: str | None = None,
    occurred_at: datetime | None = None,
    producer: str = "enrollment",
) -> Envelope:
    envelope = Envelope.wrap(event, producer=producer, event_id=event_id, occurred_at=occurred_at)
    await publisher.publish_raw(
        envelope.routing_key, envelope.model_dump_json().encode(), event_id=envelope.event_id, correlation_id=None
    )
    return envelope


async def year_totals(client: httpx.AsyncClient, token: str, ce: str, year: int = 2026) -> dict[str, Any]:
    response = await client.get(f"/v1/teachers/{ce}/years/{year}/hours", headers=bearer(token))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_duplicate_and_reordered_results_credit_the_same(
    container: Container, client: httpx.AsyncClient, make_token: Any, drained: Any
) -> None:
    worker = create_worker(container)
    facts = [("r1", 8.0), ("r2", 6.0), ("r3", 5.5), ("r4", 4.5), ("r5", 2.0)]  # 26 school-based hours, cap 18
    async with running(worker):
        publisher = EventPublisher(worker.broker, container.settings.topology)
        first = await publish(publisher, result("2026000001", "a-r1", 8.0))
        for _ in range(3):  # the same envelope redelivered
            await publish(publisher, result("2026000001", "a-r1", 8.0), event_id=first.event_id)
        await publish(publisher, result("2026000001", "a-r1", 8.0))  # a re-registration of the same result
        for result_id, hours in facts[1:]:
            await publish(publisher, result("2026000001", f"a-{result_id}", hours))
        shuffled = list(facts)
        random.Random(7).shuffle(shuffled)
        for result_id, hours in shuffled:
            await publish(publisher, result("2026000002", f"b-{result_id}", hours))
            await publish(publisher, result("2026000002", f"b-{result_id}", hours))
        await publish(publisher, result("2026000002", "b-failed", 3.0, passed=False))
        await publish(publisher, result("2026000002", "b-public", 3.0, source="platform_course", category="public"))
        ledger = container.infra.db["ledger"]
        await eventually(lambda: _count(ledger, 11), timeout=20)
        await eventually(lambda: _all_relayed(ledger), timeout=20)  # every HoursCredited was published
    await drained(container.settings, lambda: create_worker(container))  # duplicates in flight were handled too
    city = make_token("city_admin")
    a = await year_totals(client, city, "2026000001")
    b = await year_totals(client, city, "2026000002")
    assert a["elective"] == b["elective"] == 18
    assert b["public"] == 3 and b["total"] == 21
    assert len(a["entries"]) == 5 and len(b["entries"]) == 6
    assert sum(e["not_credited"] for e in a["entries"]) == sum(e["not_credited"] for e in b["entries"]) == 8
    assert all(e["reason"] == "yearly_cap:school_based" for e in a["entries"] if e["not_credited"])
    assert all(e["reference"]["kind"] == "result" for e in a["entries"])
    assert await container.infra.db["ledger"].count_documents({}) == 11


async def _all_relayed(collection: Any) -> bool:
    return bool(await collection.count_documents({"outbox_pending": {"$gt": 0}}) == 0)


async def _count(collection: Any, n: int) -> bool:
    return bool(await collection.count_documents({}) >= n)


async def test_roster_events_keep_scope_current(
    container: Container, client: httpx.AsyncClient, make_token: Any
) -> None:
    worker = create_worker(container)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    async with running(worker):
        publisher = EventPublisher(worker.broker, container.settings.topology)
        await publish(
            publisher,
            TeacherTransferred(
                ce_number="2026000009",
                from_school_id="s1",
                to_school_id="s2",
                to_school_name="华景中学",
                from_district="天河区",
                to_district="天河区",
            ),
            occurred_at=start + timedelta(days=2),
        )
        await publish(
            publisher,
            TeacherRegistered(
                ce_number="2026000009",
                name="新老师",
                school_id="s1",
                school_name="一小",
                district="天河区",
                registered_year=2026,
            ),
            occurred_at=start,
        )
        await eventually(lambda: container.teachers.get("2026000009"))
        await eventually(lambda: _is_school(container, "2026000009", "s2"))
    old_school = await client.get(
        "/v1/teachers/2026000009/years/2026/hours", headers=bearer(make_token("school_admin", school_id="s1"))
    )
    new_school = await client.get(
        "/v1/teachers/2026000009/years/2026/hours", headers=bearer(make_token("school_admin", school_id="s2"))
    )
    assert (old_school.status_code, new_school.status_code) == (404, 200)


async def _is_school(container: Container, ce: str, school: str) -> bool:
    doc = await container.teachers.get(ce)
    return bool(doc and doc.get("school_id") == school and doc.get("name") == "新老师")


async def test_studio_facts_feed_points_and_the_studio_cap(
    container: Container, client: httpx.AsyncClient, make_token: Any, drained: Any
) -> None:
    container.set_clock(
        __import__("jijiao_kit.clock", fromlist=["FixedClock"]).FixedClock(datetime(2026, 6, 1, tzinfo=UTC))
    )
    worker = create_worker(container)
    async with running(worker):
        publisher = EventPublisher(worker.broker, container.settings.topology)
        fact = PointsFactRecorded(
            fact_id="f1", ce_number="2026000001", rule="workshop_featured_host", reference="ws-1", year=2026
        )
        envelope = await publish(publisher, fact, producer="studio")
        await publish(publisher, fact, producer="studio", event_id=envelope.event_id)
        await publish(
            publisher,
            PointsFactRecorded(
                fact_id="f2", ce_number="2026000001", rule="workshop_featured_host", reference="ws-1", year=2026
            ),
            producer="studio",
        )  # same workshop
        await publish(
            publisher,
            PointsFactRecorded(fact_id="f3", ce_number="2026000001", rule="no_such_rule", reference="x", year=2026),
            producer="studio",
        )
        for i in range(3):
            await publish(
                publisher,
                StudioTrainingRecorded(
                    record_id=f"t{i}", ce_number="2026000001", year=2026, hours=20, studio_id="st1", title="工作室研修"
                ),
                producer="studio",
            )
        await eventually(lambda: _count(container.infra.db["ledger"], 3), timeout=20)
        await eventually(lambda: _balance(container, 500), timeout=20)
    await drained(container.settings, lambda: create_worker(container))  # every duplicate was handled too
    points = await container.points.account("2026000001", 2026)
    assert points["balance"] == 500 and len(points["entries"]) == 1
    totals = await year_totals(client, make_token("city_admin"), "2026000001")
    assert totals["professional"] == 42
    assert sorted(e["credited"] for e in totals["entries"]) == [2, 20, 20]


async def _balance(container: Container, points: int) -> bool:
    return bool((await container.points.account("2026000001", 2026))["balance"] == points)


def _unique() -> str:
    return uuid.uuid4().hex
