"""The baseline worker relays the outbox to the broker (publisher confirms) and runs the outcome job."""

from __future__ import annotations

from typing import Any

from baseline.entrypoints.worker import create_worker
from jijiao_stack.pytest_plugin import eventually, running


async def test_programme_events_leave_through_the_relay(centre: Any, container: Any) -> None:
    await centre.year()
    batch = await centre.batch(await centre.base("北京小学"))
    zone = await centre.zone("南沙实验区")
    await centre.allocate(batch, zone)
    db = container.infra.db
    assert (await db["zones"].find_one({"_id": zone}))["outbox_pending"] == 1
    assert (await db["batches"].find_one({"_id": batch}))["outbox_pending"] == 1
    worker = create_worker(container)
    assert "baseline.outcome_reminders" in {job.name for job in worker.jobs}

    async def relayed() -> bool:
        zone_doc = await db["zones"].find_one({"_id": zone})
        batch_doc = await db["batches"].find_one({"_id": batch})
        return zone_doc["outbox_pending"] == 0 and batch_doc["outbox_pending"] == 0 and not batch_doc["outbox"]

    async with running(worker):
        await eventually(relayed, timeout=20)
