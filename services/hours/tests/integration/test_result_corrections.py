"""A passed result re-registered as failed takes its hours back (and frees its room under a yearly cap);
passed again credits again. Ordered by the result's revision, so redelivered, duplicated, reordered and
concurrent registrations leave one answer. Real store; the worker test also uses the real broker."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx

from hours.bootstrap import Container, create_worker
from hours.service_layer.corrections import ResultCorrections
from jijiao_contracts import Envelope
from jijiao_contracts.enums import HourCategory
from jijiao_contracts.events.enrollment import ResultRegistered
from jijiao_kit.messaging import EventPublisher
from jijiao_stack.pytest_plugin import bearer, eventually, running

CE = "2026000001"


def registration(
    result_id: str, hours: float, revision: int, *, passed: bool = True, source: str = "school_based"
) -> tuple[ResultRegistered, Envelope]:
    category = HourCategory.ELECTIVE if source == "school_based" else HourCategory.PROFESSIONAL
    event = ResultRegistered(
        result_id=result_id,
        term="2602",
        year=2026,
        ce_number=CE,
        school_id="s1",
        district="天河区",
        course_code=f"C-{result_id}",
        course_name=f"课程{result_id}",
        programme="school" if source == "school_based" else "city",
        passed=passed,
        category=category,
        hours=hours,
        source=source,
        registered_by="school:s1",
        revision=revision,
    )
    return event, Envelope.wrap(event, producer="enrollment")


async def hours_of(client: httpx.AsyncClient, make_token: Any) -> dict[str, Any]:
    response = await client.get(f"/v1/teachers/{CE}/years/2026/hours", headers=bearer(make_token("city_admin")))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_fail_after_pass_takes_the_hours_back_and_pass_again_credits_again(
    container: Container, client: httpx.AsyncClient, make_token: Any
) -> None:
    corrections = ResultCorrections(container.bank)
    await corrections.apply(*registration("r1", 24, 1, source="platform_course"))
    assert (await hours_of(client, make_token))["professional"] == 24
    await corrections.apply(*registration("r1", 24, 2, source="platform_course", passed=False))
    after_fail = await hours_of(client, make_token)
    assert after_fail["professional"] == 0 and after_fail["total"] == 0
    [revoked] = [e for e in after_fail["entries"] if e["adjusts"]]
    assert revoked["credited"] == -24 and revoked["reason"] == "result_revoked" and revoked["reason_text"]
    await corrections.apply(*registration("r1", 24, 3, source="platform_course"))
    assert (await hours_of(client, make_token))["professional"] == 24
    assert len((await hours_of(client, make_token))["entries"]) == 3


async def test_the_room_a_withdrawn_result_frees_under_the_cap_goes_to_the_result_the_cap_cut(
    container: Container, client: httpx.AsyncClient, make_token: Any
) -> None:
    corrections = ResultCorrections(container.bank)
    await corrections.apply(*registration("a", 12, 1))
    await corrections.apply(*registration("b", 12, 1))  # school-based cap 18: 6 of 12
    assert (await hours_of(client, make_token))["elective"] == 18
    await corrections.apply(*registration("a", 12, 2, passed=False))
    bank = await hours_of(client, make_token)
    assert bank["elective"] == 12  # b counts in full now
    refill = [e for e in bank["entries"] if e["reason"] == "cap_room_freed"]
    assert [e["credited"] for e in refill] == [6]
    await corrections.apply(*registration("a", 12, 3))  # passed again: only the room that is left
    bank = await hours_of(client, make_token)
    assert bank["elective"] == 18
    assert sum(e["credited"] for e in bank["entries"] if e["reference"].get("id") == "a") == 12 + 6


async def test_stale_duplicate_and_reordered_registrations_leave_one_answer(
    container: Container, client: httpx.AsyncClient, make_token: Any
) -> None:
    corrections = ResultCorrections(container.bank)
    first, failed, again, failed_again = (
        registration("r", 10, 1),
        registration("r", 10, 2, passed=False),
        registration("r", 10, 3),
        registration("r", 10, 4, passed=False),
    )
    await corrections.apply(*failed)  # the correction overtook the first registration
    await corrections.apply(*first)  # stale now: credits nothing
    assert (await hours_of(client, make_token))["elective"] == 0
    await corrections.apply(*again)
    for _ in range(2):
        await corrections.apply(*again)  # redelivered
        await corrections.apply(*first)
    assert (await hours_of(client, make_token))["elective"] == 10
    await corrections.apply(*failed_again)
    await corrections.apply(*failed_again)
    await corrections.apply(*again)
    bank = await hours_of(client, make_token)
    assert bank["elective"] == 0
    assert [e["credited"] for e in bank["entries"]] == [10, -10]


async def test_concurrent_corrections_and_credits_in_one_capped_year_hold_the_cap_exactly(
    container: Container, client: httpx.AsyncClient, make_token: Any
) -> None:
    """Twelve 4-hour school-based results (cap 18), half of them corrected to failed while the other
    half and six new ones arrive, all at once: the year ends at min(18, what still counts) = 18,
    and with only three counting results, at 12."""
    corrections = ResultCorrections(container.bank)
    await asyncio.gather(*(corrections.apply(*registration(f"old{i}", 4, 1)) for i in range(12)))
    assert (await hours_of(client, make_token))["elective"] == 18
    calls = [registration(f"old{i}", 4, 2, passed=False) for i in range(6)]
    calls += [registration(f"new{i}", 4, 1) for i in range(6)]
    random.Random(3).shuffle(calls)
    await asyncio.gather(*(corrections.apply(*call) for call in calls))
    assert (await hours_of(client, make_token))["elective"] == 18
    withdrawals = [registration(f"old{i}", 4, 2, passed=False) for i in range(6, 12)]
    withdrawals += [registration(f"new{i}", 4, 2, passed=False) for i in range(3)]
    await asyncio.gather(*(corrections.apply(*call) for call in withdrawals))
    bank = await hours_of(client, make_token)
    assert bank["elective"] == 12  # new3, new4, new5 count, in full
    year = await container.infra.db["teacher_years"].find_one({"_id": f"{CE}:2026"})
    assert year is not None and year["used"]["school_based"] == 1200 and year["pending_count"] == 0


async def test_a_correction_through_the_broker_is_applied_and_its_event_published(
    container: Container, client: httpx.AsyncClient, make_token: Any
) -> None:
    worker = create_worker(container)
    async with running(worker):
        publisher = EventPublisher(worker.broker, container.settings.topology)
        for _event, envelope in (registration("w", 8, 1), registration("w", 8, 2, passed=False)):
            await publisher.publish_raw(
                envelope.routing_key,
                envelope.model_dump_json().encode(),
                event_id=envelope.event_id,
                correlation_id=None,
            )
        ledger = container.infra.db["ledger"]

        async def revoked_and_relayed() -> bool:
            entry = await ledger.find_one({"adjusts": {"$exists": True}})
            return entry is not None and not entry.get("outbox_pending")

        await eventually(revoked_and_relayed, timeout=20)
    bank = await hours_of(client, make_token)
    assert bank["elective"] == 0 and sorted(e["credited"] for e in bank["entries"]) == [-8, 8]


async def test_a_result_the_cap_cut_to_nothing_counts_once_after_failing_and_passing_again(
    container: Container, client: httpx.AsyncClient, make_token: Any
) -> None:
    """b was over the cap entirely (0 of 10), failed, then passed again (0 of 10 again): when a frees the
    cap, only b's newest credit is refilled, so b counts 10 hours, once."""
    corrections = ResultCorrections(container.bank)
    await corrections.apply(*registration("a", 18, 1))
    await corrections.apply(*registration("b", 10, 1))
    await corrections.apply(*registration("b", 10, 2, passed=False))
    await corrections.apply(*registration("b", 10, 3))
    assert (await hours_of(client, make_token))["elective"] == 18
    await corrections.apply(*registration("a", 18, 2, passed=False))
    bank = await hours_of(client, make_token)
    assert bank["elective"] == 10
    assert [e["credited"] for e in bank["entries"] if e["reason"] == "cap_room_freed"] == [10]


async def test_corrections_work_on_a_year_created_before_its_cap_group_existed(
    container: Container, client: httpx.AsyncClient, make_token: Any
) -> None:
    corrections = ResultCorrections(container.bank)
    await corrections.apply(*registration("a", 12, 1))
    await corrections.apply(*registration("b", 12, 1))
    # an older document: the counters of this group were never written
    await container.infra.db["teacher_years"].update_one({"_id": f"{CE}:2026"}, {"$unset": {"serial.school_based": ""}})
    await corrections.apply(*registration("a", 12, 2, passed=False))
    assert (await hours_of(client, make_token))["elective"] == 12
