"""Recruitment in three rounds on the real store: windows, final decisions, quotas under races."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from studio_support import CITY, World, at_round, teacher, world

from jijiao_kit.errors import AppError
from studio.domain.recruitment import ApplicantRole, Decision
from studio.domain.studios import StudioType


async def codes(*calls: Any) -> list[str]:
    results = await asyncio.gather(*calls, return_exceptions=True)
    return [
        r.code if isinstance(r, AppError) else ("ok" if not isinstance(r, BaseException) else repr(r)) for r in results
    ]


async def test_rounds_final_decisions_and_withdrawal_of_later_preferences(settings_env: dict[str, Any]) -> None:
    w: World = await world(settings_env)
    s1, s2 = await w.studio("9001"), await w.studio("9002")
    host1, host2 = teacher("9001"), teacher("9002")
    a = await w.apply("1001", [s1, s2])
    b = await w.apply("1002", [s2, s1])
    rec = w.container.recruitment

    w.clock.set(at_round(1))
    round1 = await rec.round_applications(host1, s1)
    assert round1[0] == 1 and [x["id"] for x in round1[1]] == [a]  # only round-1 applications to s1
    assert [x["id"] for x in (await rec.round_applications(host2, s2))[1]] == [b]
    with pytest.raises(AppError) as not_yours:
        await rec.decide(host1, s1, b, Decision.ADMITTED)
    assert not_yours.value.code == "application_not_found"
    admitted = await rec.decide(host1, s1, a, Decision.ADMITTED)
    assert admitted["status"] == "admitted" and admitted["studio_id"] == s1
    with pytest.raises(AppError) as again:
        await rec.decide(host1, s1, a, Decision.REJECTED)
    assert again.value.code == "already_decided"
    await rec.decide(host2, s2, b, Decision.REJECTED)

    w.clock.set(at_round(2))
    # a was admitted in round 1: their second preference (s2) is withdrawn; b's second preference is s1.
    assert (await rec.round_applications(host2, s2))[1] == []
    assert [x["id"] for x in (await rec.round_applications(host1, s1))[1]] == [b]
    await rec.decide(host1, s1, b, Decision.ADMITTED)
    studio = await w.container.studios.get(CITY, s1)
    assert studio["members"] == 2
    members = await w.container.studios.members(host1, s1, None)
    assert sorted(m["ce_number"] for m in members) == ["1001", "1002"]

    w.clock.set(at_round(3) + (at_round(3) - at_round(2)))
    short = await rec.short_studios(CITY, w.recruitment_id)
    assert short["final"] is True
    assert {s["id"]: s["members"] for s in short["studios"]} == {s1: 2, s2: 0}


async def test_application_window_and_preferences_are_checked(settings_env: dict[str, Any]) -> None:
    w = await world(settings_env)
    s1 = await w.studio("9001")
    with pytest.raises(AppError) as twice:
        await w.apply("1001", [s1, s1])
    assert twice.value.code == "invalid_preferences"
    with pytest.raises(AppError) as unknown:
        await w.apply("1001", ["nope"])
    assert unknown.value.code == "invalid_preferences"
    await w.apply("1001", [s1])
    with pytest.raises(AppError) as dup:
        await w.apply("1001", [s1])
    assert dup.value.code == "already_applied"
    w.clock.set(at_round(1))
    from studio.service_layer.recruitment import NewApplication

    with pytest.raises(AppError) as closed:
        await w.container.recruitment.apply(
            teacher("1003"), w.recruitment_id, NewApplication(ApplicantRole.MEMBER, [s1], {})
        )
    assert closed.value.code == "application_closed"


async def test_200_parallel_admissions_never_pass_the_maximum(settings_env: dict[str, Any]) -> None:
    w = await world(settings_env)
    s1 = await w.studio("9001")  # teacher studio: at most 12
    ids = [await w.apply(f"2{n:04d}", [s1]) for n in range(200)]
    w.clock.set(at_round(1))
    host = teacher("9001")
    results = await codes(*(w.container.recruitment.decide(host, s1, i, Decision.ADMITTED) for i in ids))
    assert results.count("ok") == 12 and results.count("studio_full") == 188
    assert (await w.container.studios.get(CITY, s1))["members"] == 12
    assert len(await w.container.studios.members(host, s1, "member")) == 12
    # refused admissions left no trace: still pending, decidable by a rejection
    pending = await w.container.recruitment.round_applications(host, s1)
    assert sum(1 for a in pending[1] if a["status"] == "pending") == 188


async def test_one_membership_per_cycle_under_a_race(settings_env: dict[str, Any]) -> None:
    w = await world(settings_env)
    s1, s2 = await w.studio("9001"), await w.studio("9002")
    from studio_support import open_recruitment

    other = await open_recruitment(w.container)  # a second recruitment of the same cycle
    a = await w.apply("1001", [s1])
    b = await w.apply("1001", [s2], recruitment_id=other)
    w.clock.set(at_round(1))
    results = await codes(
        w.container.recruitment.decide(teacher("9001"), s1, a, Decision.ADMITTED),
        w.container.recruitment.decide(teacher("9002"), s2, b, Decision.ADMITTED),
    )
    assert sorted(results) == ["already_member", "ok"]
    counts = [(await w.container.studios.get(CITY, s))["members"] for s in (s1, s2)]
    assert sorted(counts) == [0, 1]


async def test_online_students_have_their_own_cap_and_the_host_removes_them(settings_env: dict[str, Any]) -> None:
    w = await world(settings_env)
    s1 = await w.studio("9001", student_cap=2)
    ids = [await w.apply(f"3{n:03d}", [s1], role=ApplicantRole.STUDENT) for n in range(5)]
    w.clock.set(at_round(1))
    host = teacher("9001")
    results = await codes(*(w.container.recruitment.decide(host, s1, i, Decision.ADMITTED) for i in ids))
    assert results.count("ok") == 2 and results.count("studio_full") == 3
    students = await w.container.studios.members(host, s1, "student")
    await w.container.studios.remove_student(host, s1, students[0]["ce_number"])
    assert len(await w.container.studios.members(host, s1, "student")) == 1
    assert (await w.container.studios.get(CITY, s1))["students"] == 1


async def test_assistants_only_in_expert_studios(settings_env: dict[str, Any]) -> None:
    w = await world(settings_env)
    expert = await w.studio("9001", StudioType.EXPERT)
    plain = await w.studio("9002")
    a = await w.apply("1001", [expert])
    b = await w.apply("1002", [plain])
    w.clock.set(at_round(1))
    await w.container.recruitment.decide(teacher("9001"), expert, a, Decision.ADMITTED)
    await w.container.recruitment.decide(teacher("9002"), plain, b, Decision.ADMITTED)
    made = await w.container.studios.set_assistant(teacher("9001"), expert, "1001", True)
    assert made["assistant"] is True or made["assistant"] == 1
    assert (await w.container.studios.get(teacher("1001"), expert))["standing"] == "assistant"
    with pytest.raises(AppError) as refused:
        await w.container.studios.set_assistant(teacher("9002"), plain, "1002", True)
    assert refused.value.code == "no_assistants"
    with pytest.raises(AppError) as member_only:
        await w.container.studios.set_assistant(teacher("1001"), expert, "1001", True)
    assert member_only.value.code == "not_host"


async def test_workbench_and_visibility(settings_env: dict[str, Any]) -> None:
    w = await world(settings_env)
    s1, s2 = await w.studio("9001"), await w.studio("9002")
    await w.apply("1001", [s1])
    w.clock.set(at_round(1))
    bench = await w.container.studios.listing(teacher("9001"), hosted_by_me=True)
    assert [b["_id"] for b in bench] == [s1]
    assert bench[0]["counts"]["pending_applications"] == 1 and bench[0]["links"]["applications"].endswith(
        "/applications"
    )
    # outside the application window a stranger sees neither studio
    assert await w.container.studios.listing(teacher("5555"), hosted_by_me=False) == []
    with pytest.raises(AppError) as hidden:
        await w.container.studios.get(teacher("5555"), s2)
    assert hidden.value.code == "studio_not_found"
    with pytest.raises(AppError) as host_only:
        await w.container.studios.members(teacher("5555"), s1, None)
    assert host_only.value.code == "studio_not_found"
    w.clock.set(at_round(0))
    assert {s["_id"] for s in await w.container.studios.listing(teacher("5555"), hosted_by_me=False)} == {s1, s2}


async def test_a_seat_taken_before_a_crash_is_reused_by_the_retry_or_given_back_by_the_repair(
    settings_env: dict[str, Any],
) -> None:
    """Crash window: the seat is taken (first write) and the process dies before the application is
    marked admitted (second write). Simulated by writing the first half directly."""
    from datetime import timedelta

    from jijiao_kit.timeutil import epoch_ms
    from studio.service_layer.recruitment import SEAT_HOLD_GRACE_MS

    w: World = await world(settings_env)
    s1 = await w.studio("9001")
    host = teacher("9001")
    retried, abandoned = await w.apply("1001", [s1]), await w.apply("1002", [s1])
    rec, seats = w.container.recruitment, w.container.studios.studios
    w.clock.set(at_round(1))
    crashed_at = epoch_ms(w.clock.now())
    for application_id in (retried, abandoned):
        assert await seats.hold_seat(s1, "members", 12, application_id, crashed_at)
    assert (await seats.get(s1) or {})["members"] == 2

    # the host retries the first decision: it uses the seat its crashed attempt took, not a second one
    admitted = await rec.decide(host, s1, retried, Decision.ADMITTED)
    assert admitted["status"] == "admitted"
    assert (await seats.get(s1) or {})["members"] == 2
    # within the grace a hold may belong to a decision between its two writes: nothing is given back
    assert await rec.repair_seats() == 0

    # the second decision is never retried: past the grace the repair gives its seat back, exactly once
    w.clock.set(at_round(1) + timedelta(milliseconds=SEAT_HOLD_GRACE_MS + 1000))
    assert sorted(await asyncio.gather(rec.repair_seats(), rec.repair_seats(), rec.repair_seats())) == [0, 0, 1]
    assert await rec.repair_seats() == 0
    studio = await seats.collection.find_one({"_id": s1}) or {}
    assert studio["members"] == 1 and studio["seat_holds"] == {}
    members = await w.container.studios.members(host, s1, None)
    assert [m["ce_number"] for m in members] == ["1001"]
    # the abandoned application is still pending and can be decided again, on a fresh seat
    assert (await rec.decide(host, s1, abandoned, Decision.ADMITTED))["status"] == "admitted"
    assert (await seats.get(s1) or {})["members"] == 2
