"""Issue 12 item 7: POST …/results/batch and …/learning-started are bulk work: a batch costs the store a
few commands, not several per row (5,000 rows took 17 s, and learning-started did not answer within
120 s); every selection still gets its result and its one event in its own write, a repeated batch
changes nothing, and two batches at once register each selection once. The 5,000-row timing is
``benchmarks/bench_result_batches.py``."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from pymongo import monitoring

from jijiao_stack.pytest_plugin import bearer

sys.path.insert(0, str(Path(__file__).parent))
from seeded_documents import NOW, add_course, add_school, add_term, enrollment_env

ROWS = 1200
COURSE = "2602100001"


class _Commands(monitoring.CommandListener):
    """Store commands per database (pymongo's command monitoring, registered once per process)."""

    def __init__(self) -> None:
        self.by_db: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.by_db[event.database_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


COMMANDS = _Commands()
monitoring.register(COMMANDS)  # applies to clients created from now on (each test builds its own)


async def seed(db: Any, count: int) -> list[str]:
    await add_term(db, "2602", year=2026)
    school = await add_school(db, "s1")
    course = await add_course(db, "2602", COURSE, institution_id="inst-1")
    ces = [f"2026{n:06d}" for n in range(count)]
    await db["teachers"].insert_many(
        [
            {
                "_id": ce,
                "name": f"教师{ce[-4:]}",
                "school_id": "s1",
                "school_name": school["name"],
                "district": "天河区",
            }
            for ce in ces
        ]
    )
    await db["selections"].insert_many(
        [
            {
                "_id": uuid.uuid4().hex,
                "term": "2602",
                "ce_number": ce,
                "name": f"教师{ce[-4:]}",
                "school_id": "s1",
                "district": "天河区",
                "course_code": COURSE,
                "course_name": course["name"],
                "programme": course["programme"],
                "hour_type": course["hour_type"],
                "hours": course["hours"],
                "status": "active",
                "active_key": f"2602:{ce}:{COURSE}",
                "created_at": NOW,
                "paid": True,
                "learning_started": False,
                "result": None,
            }
            for ce in ces
        ]
    )
    return ces


def events(doc: dict[str, Any], event_type: str) -> list[dict[str, Any]]:
    bodies = [json.loads(entry["body"]) for entry in (doc.get("outbox") or {}).values()]
    return [body for body in bodies if body["type"] == event_type]


async def test_a_results_batch_is_bulk_work_with_one_event_per_selection(settings_env: Any, make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        ces = await seed(env.db, ROWS)
        inst = bearer(make_token("institution", institution_id="inst-1", subject="account:inst1"))
        rows = [{"ce_number": ce, "course_code": COURSE, "passed": n % 3 != 0} for n, ce in enumerate(ces)]
        rows += [
            {"ce_number": ces[0], "course_code": COURSE, "passed": True},  # the same selection again, changed
            {"ce_number": "20269999", "course_code": COURSE, "passed": True},
            {"ce_number": ces[1], "course_code": "2602999999", "passed": True},
        ]
        db_name = env.db.name
        before = COMMANDS.by_db[db_name]
        response = await env.client.post("/v1/terms/2602/results/batch", json={"results": rows}, headers=inst)
        commands = COMMANDS.by_db[db_name] - before
        assert response.status_code == 200, response.text
        outcomes = [(row["outcome"], row["code"]) for row in response.json()]
        assert outcomes[:ROWS] == [("registered", None)] * ROWS
        assert outcomes[ROWS:] == [("registered", None), (None, "selection_not_found"), (None, "course_not_found")]
        assert commands <= 30, f"{commands} store commands for {len(rows)} rows"

        stored = {doc["ce_number"]: doc async for doc in env.db["selections"].find({"term": "2602"})}
        for n, ce in enumerate(ces):
            doc = stored[ce]
            registered = events(doc, "enrollment.result_registered")
            expected = 2 if n == 0 else 1  # row 0 registered failed, then passed: two revisions
            assert len(registered) == expected and doc["result_seq"] == expected, ce
            assert doc["result"] == ("passed" if n % 3 != 0 or n == 0 else "failed")
            assert sorted(event["payload"]["revision"] for event in registered) == list(range(1, expected + 1))

        again = await env.client.post("/v1/terms/2602/results/batch", json={"results": rows[1:]}, headers=inst)
        assert [row["outcome"] for row in again.json()][: ROWS - 1] == ["unchanged"] * (ROWS - 1)
        pending = [doc.get("outbox_pending", 0) async for doc in env.db["selections"].find({})]
        assert sum(pending) == ROWS + 1  # no event from the repeated batch


async def test_parallel_result_batches_register_each_selection_once(settings_env: Any, make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        ces = await seed(env.db, 300)
        inst = bearer(make_token("institution", institution_id="inst-1", subject="account:inst1"))
        rows = [{"ce_number": ce, "course_code": COURSE, "passed": True} for ce in ces]
        first, second = await asyncio.gather(
            *(env.client.post("/v1/terms/2602/results/batch", json={"results": rows}, headers=inst) for _ in range(2))
        )
        assert first.status_code == second.status_code == 200
        for a, b in zip(first.json(), second.json(), strict=True):
            assert sorted([a["outcome"], b["outcome"]]) == ["registered", "unchanged"]
        async for doc in env.db["selections"].find({}):
            assert len(events(doc, "enrollment.result_registered")) == 1 and doc["result_seq"] == 1


async def test_learning_started_is_bulk_work_once_per_selection(settings_env: Any, make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        ces = await seed(env.db, ROWS)
        city = bearer(make_token("city_admin"))
        records = [{"ce_number": ce, "course_code": COURSE} for ce in ces]
        records += [{"ce_number": ces[5], "course_code": COURSE}, {"ce_number": "20269999", "course_code": COURSE}]
        db_name = env.db.name
        before = COMMANDS.by_db[db_name]
        response = await env.client.post("/v1/terms/2602/learning-started", json={"records": records}, headers=city)
        commands = COMMANDS.by_db[db_name] - before
        assert response.status_code == 200, response.text
        assert [row["outcome"] for row in response.json()] == ["started"] * ROWS + ["already", "missing"]
        assert commands <= 30, f"{commands} store commands for {len(records)} rows"
        async for doc in env.db["selections"].find({}):
            assert bool(doc["learning_started"]) and len(events(doc, "enrollment.learning_started")) == 1

        parallel = await asyncio.gather(
            *(
                env.client.post("/v1/terms/2602/learning-started", json={"records": records[:300]}, headers=city)
                for _ in range(2)
            )
        )
        assert all(row["outcome"] == "already" for answer in parallel for row in answer.json())
        async for doc in env.db["selections"].find({}):
            assert len(events(doc, "enrollment.learning_started")) == 1


async def test_parallel_learning_batches_start_each_selection_once(settings_env: Any, make_token: Any) -> None:
    async with enrollment_env(settings_env) as env:
        ces = await seed(env.db, 300)
        city = bearer(make_token("city_admin"))
        records = [{"ce_number": ce, "course_code": COURSE} for ce in ces]
        first, second = await asyncio.gather(
            *(
                env.client.post("/v1/terms/2602/learning-started", json={"records": records}, headers=city)
                for _ in range(2)
            )
        )
        for a, b in zip(first.json(), second.json(), strict=True):
            assert sorted([a["outcome"], b["outcome"]]) == ["already", "started"]
        async for doc in env.db["selections"].find({}):
            assert len(events(doc, "enrollment.learning_started")) == 1
