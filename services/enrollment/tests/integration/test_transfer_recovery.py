"""An approval interrupted between its single-document steps is finished by the next approval,
without moving the teacher twice (no multi-document transactions: each step is safe to repeat)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from roster_support import roster_env


async def test_a_stale_claim_is_completed_and_a_stale_claim_completed_is_respected(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    async with roster_env(settings_env, make_token) as env:
        old = await env.school("天河一小")
        new = await env.school("天河二小")
        t1 = await env.teacher(old, "陈晓明")
        t2 = await env.teacher(old, "李静")
        ids = []
        for teacher in (t1, t2):
            applied = await env.client.post(
                f"/v1/schools/{new['id']}/transfers",
                json={"ce_number": teacher["ce_number"], "name": teacher["name"]},
                headers=env.school_admin(new),
            )
            ids.append(applied.json()["id"])
        # 1) crashed right after claiming: nothing moved yet
        await env.db["transfers"].update_one(
            {"_id": ids[0]},
            {"$set": {"status": "approving", "claimed_by": "account:gone"}},
        )
        await env.db["transfers"].update_one(
            {"_id": ids[0]}, {"$set": {"claimed_at": datetime.now(UTC) - timedelta(minutes=5)}}
        )
        # 2) crashed after moving the teacher but before closing: replay that move's first step by approving
        #    normally, then put the application back to "approving" as if the close never happened
        done = await env.client.post(f"/v1/transfers/{ids[1]}/approve", headers=env.district())
        await env.db["transfers"].update_one(
            {"_id": ids[1]}, {"$set": {"status": "approving", "open_key": t2["ce_number"]}}
        )
        await env.db["transfers"].update_one(
            {"_id": ids[1]}, {"$set": {"claimed_at": datetime.now(UTC) - timedelta(minutes=5)}}
        )
        stale_claim_completed = await env.client.post(f"/v1/transfers/{ids[0]}/approve", headers=env.district())
        finished = await env.client.post(f"/v1/transfers/{ids[1]}/approve", headers=env.district())
        t1_doc = await env.container.teachers.get(t1["ce_number"])
        t1_moves = (await env.outbox_types("teachers", t1["ce_number"])).count("enrollment.teacher_transferred")
        t2_moves = (await env.outbox_types("teachers", t2["ce_number"])).count("enrollment.teacher_transferred")
        # 3) a claim younger than the stale limit belongs to its approver: others get 409
        third = await env.teacher(old, "王海燕")
        applied = await env.client.post(
            f"/v1/schools/{new['id']}/transfers",
            json={"ce_number": third["ce_number"], "name": "王海燕"},
            headers=env.school_admin(new),
        )
        await env.db["transfers"].update_one(
            {"_id": applied.json()["id"]}, {"$set": {"status": "approving", "claimed_by": "account:busy"}}
        )
        await env.db["transfers"].update_one({"_id": applied.json()["id"]}, {"$set": {"claimed_at": datetime.now(UTC)}})
        busy = await env.client.post(f"/v1/transfers/{applied.json()['id']}/approve", headers=env.district())
    assert done.status_code == 200
    assert stale_claim_completed.status_code == 200, stale_claim_completed.text
    assert stale_claim_completed.json()["status"] == "approved"
    assert t1_doc is not None and t1_doc["school_id"] == new["id"] and t1_moves == 1
    assert finished.status_code == 200, finished.text
    assert finished.json()["status"] == "approved"
    assert t2_moves == 1  # the second approval found the marker and only closed the application
    assert busy.status_code == 409 and busy.json()["code"] == "transfer_decided"
