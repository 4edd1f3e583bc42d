"""Issue 12 item 7: how long enrollment takes to answer ``POST /v1/terms/{term}/results/batch`` and
``POST /v1/terms/{term}/learning-started`` with a full batch (5,000 rows: 17 s and more than 120 s
before they became bulk work; the target is under 5 s each on this machine).

The enrollment API runs in-process (ASGI, no HTTP socket) on a private store started for this run (or
``MONGODB_URL``); the batch's selections are seeded first. Measured: the first batch (every row a new
result / a first learning signal, one event each), and the same batch again (every row unchanged).

``BENCH_RESULT_ROWS`` sets the rows per batch (default 5,000, the API's maximum)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from enrollment.bootstrap import build
from enrollment.entrypoints.api.app import create_app
from enrollment.settings import Settings
from jijiao_kit.auth import TokenIssuer, load_or_create_keypair
from jijiao_stack.processes import ProcessGroup, free_port, spawn_store

TARGET_SECONDS = 5.0
TERM, COURSE = "2602", "2602100001"


async def seed(db: Any, rows: int) -> list[str]:
    now = datetime.now(UTC)
    await db["terms"].insert_one(
        {"_id": TERM, "code": TERM, "year": 2026, "selection_opens_at": now, "selection_closes_at": now}
    )
    await db["courses"].insert_one(
        {
            "_id": f"{TERM}:{COURSE}",
            "term": TERM,
            "code": COURSE,
            "name": "信息技术应用能力提升",
            "programme": "city",
            "hour_type": "professional",
            "hours": 24,
            "institution_id": "inst-1",
        }
    )
    ces = [f"2026{n:06d}" for n in range(rows)]
    selections = [
        {
            "_id": uuid.uuid4().hex,
            "term": TERM,
            "ce_number": ce,
            "name": "教师",
            "school_id": "s1",
            "district": "天河区",
            "course_code": COURSE,
            "course_name": "信息技术应用能力提升",
            "programme": "city",
            "hour_type": "professional",
            "hours": 24,
            "status": "active",
            "active_key": f"{TERM}:{ce}:{COURSE}",
            "created_at": now,
            "paid": True,
            "learning_started": False,
            "result": None,
        }
        for ce in ces
    ]
    for start in range(0, rows, 1000):
        await db["selections"].insert_many(selections[start : start + 1000])
    return ces


async def timed(client: httpx.AsyncClient, path: str, body: dict[str, Any], token: str) -> tuple[float, list[Any]]:
    started = time.perf_counter()
    response = await client.post(path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=600)
    seconds = round(time.perf_counter() - started, 3)
    response.raise_for_status()
    return seconds, response.json()


async def main() -> dict[str, Any]:
    rows = int(os.environ.get("BENCH_RESULT_ROWS", "5000"))
    workdir = Path(tempfile.mkdtemp(prefix="jijiao-bench-results-"))
    group = ProcessGroup(workdir / "log")
    try:
        url = os.environ.get("MONGODB_URL") or spawn_store(group, free_port(), workdir)
        settings = Settings(
            mongodb_url=url,
            name_prefix=f"br{uuid.uuid4().hex[:6]}",
            keys_dir=workdir / "keys",
            step_up_required=False,
            log_level="WARNING",
        )
        keys = load_or_create_keypair(settings.keys_dir, "auth")
        issuer = TokenIssuer(keys.private_pem, issuer="jijiao-enrollment", audience="jijiao", ttl_seconds=3600)
        institution = issuer.issue(
            "account:bench-inst", {"roles": ["institution"], "name": "机构", "scopes": {"institution_id": "inst-1"}}
        )
        city = issuer.issue("account:bench-city", {"roles": ["city_admin"], "name": "市", "scopes": {}})
        container = build(settings)
        app = create_app(container)
        async with app.router.lifespan_context(app):
            ces = await seed(container.infra.db, rows)
            results = {"results": [{"ce_number": ce, "course_code": COURSE, "passed": True} for ce in ces]}
            learning = {"records": [{"ce_number": ce, "course_code": COURSE} for ce in ces]}
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                path = f"/v1/terms/{TERM}/results/batch"
                first, answer = await timed(client, path, results, institution)
                registered = sum(1 for row in answer if row["outcome"] == "registered")
                again, answer = await timed(client, path, results, institution)
                unchanged = sum(1 for row in answer if row["outcome"] == "unchanged")
                path = f"/v1/terms/{TERM}/learning-started"
                learning_first, answer = await timed(client, path, learning, city)
                started = sum(1 for row in answer if row["outcome"] == "started")
                learning_again, answer = await timed(client, path, learning, city)
                already = sum(1 for row in answer if row["outcome"] == "already")
            await container.infra.mongo.drop_database(container.infra.db.name)
        summary = {
            "rows": rows,
            "results_batch_seconds": first,
            "results_batch_repeat_seconds": again,
            "learning_started_seconds": learning_first,
            "learning_started_repeat_seconds": learning_again,
            "target_seconds": TARGET_SECONDS,
            "met": max(first, learning_first) < TARGET_SECONDS,
        }
        return {
            "summary": summary,
            "outcomes": {"registered": registered, "unchanged": unchanged, "started": started, "already": already},
        }
    finally:
        group.stop()
        shutil.rmtree(workdir, ignore_errors=True)
