"""Demo data of baseline (``make up``): the current academic year with open deadlines, a base, a zone
whose batch is running now, and one confirmed trainee. The logins ``zonecontact`` and ``trainee``
(enrollment's seed) carry these ids in their scopes. Idempotent: a second run changes nothing.

Written straight through the repositories, without events: the demo logins are seeded by enrollment
with the demo password, so no random initial secret is sent for them."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

from baseline.adapters import mongo
from baseline.adapters.repositories import Duplicate, Hold
from baseline.bootstrap import Container, build
from baseline.domain.quota import BATCH_SIZE
from jijiao_kit.timeutil import epoch_ms

# Shared with enrollment's seed_demo (the scopes of the demo logins).
ZONE_ID = "de0000000201"
BASE_ID = "de0000000101"
BATCH_ID = "de0000000301"
TRAINEE_ID = "de0000000401"
DEMAND_ID = "de0000000501"
SHANGHAI = ZoneInfo("Asia/Shanghai")


async def seed(container: Container) -> dict[str, str]:
    await mongo.ensure_indexes(container.infra.db)
    now = container.clock.now()
    today = now.astimezone(SHANGHAI).date()
    first = today.year if today.month >= 7 else today.year - 1
    year = f"{first}-{first + 1}"
    refs = container.programme.references
    docs = [
        (refs.add_year, {
            "_id": year,
            "demand_deadline": epoch_ms(now + timedelta(days=30)),
            "personnel_deadline": epoch_ms(now + timedelta(days=60)),
            "report_deadline": epoch_ms(now + timedelta(days=75)),
            "rewarded": {},
            "rewarded_count": 0,
            "created_at": now,
        }),
        (refs.add_base, {
            "_id": BASE_ID,
            "name": "北京市第一实验小学（研修基地）",
            "stage": "primary",
            "region": "北京",
            "contact": {"name": "基地联络员", "mobile": "13800000020", "email": None},
            "created_at": now,
        }),
    ]  # fmt: skip
    for add, doc in docs:
        try:
            await add(doc)
        except Duplicate:
            pass
    try:
        await refs.add_zone(
            {
                "_id": ZONE_ID,
                "name": "广州南沙实验区",
                "region": "广东",
                "contact": {"name": "南沙联系人", "mobile": "13800000010", "email": "nansha@example.com"},
                "created_at": now,
            },
            [],
        )
    except Duplicate:
        pass
    if await container.programme.batches.get(BATCH_ID) is None:
        starts, ends = today - timedelta(days=2), today + timedelta(days=11)
        trainee = {
            "trainee_id": TRAINEE_ID,
            "name": "陈研修",
            "gender": "female",
            "post": "教研组长",
            "mobile": "13800000011",
            "email": None,
            "employer": "南沙第一小学",
            "subject": "数学",
            "role": "leader",
            "added_ms": epoch_ms(now),
            "reported_at": None,
            "checked_in_at": None,
            "reminded_at": None,
            "overdue_at": None,
        }
        qid = await container.programme.ensure_quota(year, ZONE_ID)
        # The zone's approved demand the batch answers (its places taken from the quota like a real one).
        asked = Hold(DEMAND_ID, epoch_ms(now), {"demand_id": DEMAND_ID})
        await container.programme.quotas.reserve_demand(qid, BATCH_SIZE, asked)
        demand = {
            "_id": DEMAND_ID, "year": year, "zone_id": ZONE_ID, "stage": "primary", "places": BATCH_SIZE,
            "purpose": "学习课程改革与校本教研经验", "demand_type": "exchange", "remark": None, "sequence": 1,
            "status": "approved", "unallocated": 0, "submitted_at": now, "submitted_by": f"zc-{ZONE_ID}",
        }  # fmt: skip
        await container.programme.demands.add(demand, [])
        hold = Hold(f"seed-{BATCH_ID}", epoch_ms(now), {"batch_id": BATCH_ID, "zone_id": ZONE_ID})
        await container.programme.quotas.reserve_allocation(qid, BATCH_SIZE, hold)
        await container.programme.batches.add(
            {
                "_id": BATCH_ID,
                "year": year,
                "base_id": BASE_ID,
                "base_name": "北京市第一实验小学（研修基地）",
                "stage": "primary",
                "starts_on": starts.isoformat(),
                "ends_on": ends.isoformat(),
                "start_ms": epoch_ms(now - timedelta(days=2)),
                "end_ms": epoch_ms(now + timedelta(days=11)),
                "capacity": 2,
                "zones_left": 1,
                "zones": {
                    ZONE_ID: {
                        "zone_id": ZONE_ID,
                        "zone_name": "广州南沙实验区",
                        "places": BATCH_SIZE,
                        "free": BATCH_SIZE - 1,
                        "count": 1,
                        "trainees": {TRAINEE_ID: trainee},
                        "confirmed_at": epoch_ms(now),
                        "allocated_at": epoch_ms(now),
                        "hold_id": hold.hold_id,
                        "demand_id": DEMAND_ID,
                        "demand_type": "exchange",
                    }
                },
                "created_at": now,
            }
        )
        await container.programme.stages.offer(year, "primary", 2 * BATCH_SIZE)
        await container.programme.stages.reserve(year, "primary", BATCH_SIZE, asked)
    return {"year": year, "zone_id": ZONE_ID, "batch_id": BATCH_ID, "trainee_id": TRAINEE_ID}


async def main() -> None:
    container = build()
    try:
        print(await seed(container))
    finally:
        await container.infra.close()


if __name__ == "__main__":
    asyncio.run(main())
