"""Invariants under parallel requests (asyncio.gather of 200): one teacher per ID number, and one
transfer approval that applies once."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from roster_support import id_number, roster_env

PARALLEL = 200


async def test_200_concurrent_adds_of_one_id_number_create_exactly_one_teacher(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with roster_env(settings_env, make_token) as env:
        school = await env.school("天河一小")
        other = await env.school("天河二小")
        number = id_number(777)

        async def add(index: int) -> Any:
            target = school if index % 2 else other
            return await env.client.post(
                f"/v1/schools/{target['id']}/teachers",
                json={"name": f"教师{index}", "id_number": number, "mobile": "13900000001"},
                headers=env.school_admin(target),
            )

        responses = await asyncio.gather(*(add(i) for i in range(PARALLEL)))
        stored = await env.db["teachers"].count_documents({"id_number": number})
        everything = await env.db["teachers"].count_documents({})
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: PARALLEL - 1}, statuses
    winner = next(r.json()["ce_number"] for r in responses if r.status_code == 201)
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"teacher_exists"}
    assert {r.json()["ce_number"] for r in responses if r.status_code == 409} == {winner}
    assert (stored, everything) == (1, 1)


async def test_200_parallel_approvals_of_one_transfer_apply_once(settings_env: dict[str, Any], make_token: Any) -> None:
    async with roster_env(settings_env, make_token) as env:
        old = await env.school("天河一小")
        new = await env.school("越秀一小", district="越秀区")
        teacher = await env.teacher(old, "陈晓明")
        ce = teacher["ce_number"]
        await env.client.post(f"/v1/teachers/{ce}/archive", json={"status": "left"}, headers=env.school_admin(old))
        applied = await env.client.post(
            f"/v1/schools/{new['id']}/transfers",
            json={"ce_number": ce, "name": "陈晓明"},
            headers=env.school_admin(new),
        )
        transfer_id = applied.json()["id"]

        async def decide(index: int) -> Any:
            if index % 10 == 0:  # some approvers press "reject" at the same moment
                return await env.client.post(
                    f"/v1/transfers/{transfer_id}/reject", json={"reason": "重复"}, headers=env.city()
                )
            return await env.client.post(f"/v1/transfers/{transfer_id}/approve", headers=env.city())

        responses = await asyncio.gather(*(decide(i) for i in range(PARALLEL)))
        final = await env.container.transfers.transfers.get(transfer_id)
        events = await env.outbox_types("teachers", ce)
        teacher_doc = await env.container.teachers.get(ce)
    statuses = Counter(r.status_code for r in responses)
    assert statuses[200] == 1, statuses
    assert statuses[409] == PARALLEL - 1, [(r.status_code, r.text[:200]) for r in responses if r.status_code != 409]
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert final is not None and final["status"] == winner["status"]
    moves = events.count("enrollment.teacher_transferred")
    assert teacher_doc is not None
    if winner["status"] == "approved":
        assert moves == 1 and events.count("enrollment.teacher_archived") == 2  # left, then active on arrival
        assert teacher_doc["school_id"] == new["id"] and teacher_doc["status"] == "active"
        assert teacher_doc["version"] == 3
    else:
        assert moves == 0 and teacher_doc["school_id"] == old["id"]


async def test_200_parallel_principal_authorisations_leave_exactly_one_principal(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with roster_env(settings_env, make_token) as env:
        school = await env.school("天河一小")
        teachers = [await env.teacher(school, f"教师{i}", id_number=id_number(600 + i)) for i in range(20)]

        async def authorise(index: int) -> Any:
            return await env.client.put(
                f"/v1/schools/{school['id']}/principal",
                json={"ce_number": teachers[index % 20]["ce_number"]},
                headers=env.school_admin(school),
            )

        responses = await asyncio.gather(*(authorise(i) for i in range(PARALLEL)))
        stored = await env.db["schools"].find_one({"_id": school["id"]})
    statuses = Counter(r.status_code for r in responses)
    winners = {r.json()["principal_ce_number"] for r in responses if r.status_code == 200}
    assert statuses == {200: 1, 409: PARALLEL - 1}, statuses
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"principal_exists"}
    assert stored is not None and {stored["principal_ce_number"]} == winners
