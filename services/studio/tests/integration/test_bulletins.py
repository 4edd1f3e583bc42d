"""Bulletins on the real store: the regulation once, annual plans once a year and three in all (also
when published in parallel), fixed once published, rich text sanitised."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from studio_support import teacher, world

from jijiao_kit.errors import AppError
from studio.domain.bulletins import BulletinKind

HOST = teacher("9001")


async def outcomes(*calls: Any) -> list[str]:
    results = await asyncio.gather(*calls, return_exceptions=True)
    return [r.code if isinstance(r, AppError) else "ok" for r in results]


async def test_limits_hold_under_parallel_publishing(settings_env: dict[str, Any]) -> None:
    w = await world(settings_env)
    sid = await w.studio("9001", cycle_years=5)
    svc = w.container.bulletins
    regulation = await outcomes(
        *(svc.create(HOST, sid, BulletinKind.REGULATION, "章程", "<p>章程</p>", None, True) for _ in range(8))
    )
    assert regulation.count("ok") == 1 and regulation.count("bulletin_limit") == 7
    same_year = await outcomes(
        *(svc.create(HOST, sid, BulletinKind.ANNUAL_PLAN, "计划", "x", 2026, True) for _ in range(8))
    )
    assert same_year.count("ok") == 1
    other_years = await outcomes(
        *(svc.create(HOST, sid, BulletinKind.ANNUAL_PLAN, "计划", "x", y, True) for y in (2027, 2028, 2029, 2030))
    )
    assert other_years.count("ok") == 2 and other_years.count("bulletin_limit") == 2  # three in all
    plans = await svc.listing(HOST, sid, BulletinKind.ANNUAL_PLAN.value)
    assert len(plans) == 3 and len({p["year"] for p in plans}) == 3
    cycles = await outcomes(
        *(svc.create(HOST, sid, BulletinKind.CYCLE_PLAN, f"规划{n}", "x", None, True) for n in range(3))
    )
    assert cycles == ["ok"] * 3


async def test_published_plans_are_fixed_and_drafts_free_their_slot(settings_env: dict[str, Any]) -> None:
    w = await world(settings_env)
    sid = await w.studio("9001")
    svc = w.container.bulletins
    reg = await svc.create(
        HOST, sid, BulletinKind.REGULATION, "章程", "<p>第一条</p><script>alert(1)</script>", None, True
    )
    assert reg["body"] == "<p>第一条</p>"
    with pytest.raises(AppError) as fixed:
        await svc.edit(HOST, sid, reg["_id"], {"title": "新章程"})
    assert fixed.value.code == "bulletin_fixed"
    with pytest.raises(AppError) as undeletable:
        await svc.delete(HOST, sid, reg["_id"])
    assert undeletable.value.code == "bulletin_fixed"
    news = await svc.create(HOST, sid, BulletinKind.ANNOUNCEMENT, "通知", "a", None, True)
    assert (await svc.edit(HOST, sid, news["_id"], {"title": "新通知"}))["title"] == "新通知"
    draft = await svc.create(HOST, sid, BulletinKind.ANNUAL_PLAN, "计划", "x", 2026, False)
    with pytest.raises(AppError) as out_of_cycle:
        await svc.create(HOST, sid, BulletinKind.ANNUAL_PLAN, "计划", "x", 2031, False)
    assert out_of_cycle.value.code == "invalid_bulletin"
    await svc.delete(HOST, sid, draft["_id"])
    again = await svc.create(HOST, sid, BulletinKind.ANNUAL_PLAN, "计划", "x", 2026, False)
    await svc.edit(HOST, sid, again["_id"], {"publish": True})
    home = await svc.home(HOST, sid)
    assert home["regulation"]["_id"] == reg["_id"] and [p["year"] for p in home["annual_plans"]] == [2026]
    with pytest.raises(AppError) as stranger:
        await svc.listing(teacher("5555"), sid, None)
    assert stranger.value.code == "studio_not_found"
