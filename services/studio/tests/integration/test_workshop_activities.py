"""Workshop activities on the studio's activity model: segments, assignments, recommendations, the summary."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from community_support import CENTRE, T0, approved_workshop, community, facts, teacher

from jijiao_kit.errors import AppError
from jijiao_kit.timeutil import epoch_ms


def activity(**kw: Any) -> dict[str, Any]:
    return {
        "mode": "online",
        "type": "seminar",
        "title": "同课异构研讨",
        "description": "",
        "starts_ms": epoch_ms(T0),
        "ends_ms": epoch_ms(T0 + timedelta(days=3)),
        "segments": [{"kind": "article", "title": "读", "required": True}, {"kind": "discussion", "title": "议"}],
        **kw,
    }


async def code_of(call: Any) -> str:
    try:
        await call
    except AppError as exc:
        return exc.code
    return "ok"


async def test_segments_assignments_recommendations_and_participation_earn_once(
    settings_env: dict[str, Any], tmp_path: Path
) -> None:
    c = await community(settings_env, tmp_path)
    svc, acts = c.community, c.workshop_activities
    wid = await approved_workshop(c)
    members = [f"10{n:02d}" for n in range(11)]
    await asyncio.gather(*(svc.join(teacher(ce), wid) for ce in members))
    assert await code_of(acts.create(teacher("1000"), wid, activity())) == "not_workshop_host"
    assert await code_of(acts.create(teacher("9001"), wid, activity(segments=[]))) == "invalid_activity"
    act = await acts.create(teacher("9001"), wid, activity())
    segs = await facts(c, "activity_segment_created")
    assert sorted(f["reference"] for f in segs) == sorted(s["id"] for s in act["segments"])
    assert {f["ce_number"] for f in segs} == {"9001"} and segs[0]["workshop_id"] == wid
    aid = act["_id"]
    await asyncio.gather(*(acts.do_part(teacher(ce), wid, aid, act["segments"][0]["id"]) for ce in members))
    await acts.hand_in(teacher("1000"), wid, aid, "<p>我的作业</p>")
    assert await code_of(acts.hand_in(teacher("1000"), wid, aid, "again")) == "already_handed_in"
    assert await code_of(acts.hand_in(teacher("7777"), wid, aid, "x")) == "not_joined"
    assert await code_of(acts.recommend(teacher("9001"), wid, aid, "1001")) == "assignment_not_found"
    await acts.recommend(teacher("9001"), wid, aid, "1000")
    await acts.recommend(teacher("9001"), wid, aid, "1000")  # each recommendation counts
    rec = await facts(c, "assignment_recommended")
    assert len(rec) == 2 and {f["ce_number"] for f in rec} == {"1000"} and len({f["reference"] for f in rec}) == 2
    results = await asyncio.gather(
        *(acts.organise(teacher("9001"), wid, aid, "小结") for _ in range(3)), return_exceptions=True
    )
    assert sum(isinstance(r, dict) for r in results) == 1
    part = await facts(c, "activity_participation")
    assert sorted(f["ce_number"] for f in part) == members and {f["reference"] for f in part} == {aid}
    # organised with participants: a real activity, and the workshop has 12 participants: active, once
    assert len(await facts(c, "active_workshop_host")) == 1
    assert len(await facts(c, "active_workshop_participant")) == 11
    assert (await svc.workshop(CENTRE, wid))["active"] is True


async def test_ten_participants_or_no_outputs_earn_no_participation(
    settings_env: dict[str, Any], tmp_path: Path
) -> None:
    c = await community(settings_env, tmp_path)
    svc, acts = c.community, c.workshop_activities
    wid = await approved_workshop(c)
    members = [f"10{n:02d}" for n in range(11)]
    await asyncio.gather(*(svc.join(teacher(ce), wid) for ce in members))
    few = await acts.create(teacher("9001"), wid, activity())
    for ce in members[:10]:
        await acts.hand_in(teacher(ce), wid, few["_id"], "作业")
    no_output = await acts.create(teacher("9001"), wid, activity())
    for ce in members:
        await acts.do_part(teacher(ce), wid, no_output["_id"], no_output["segments"][0]["id"])
    await acts.organise(teacher("9001"), wid, few["_id"], "小结")
    await acts.organise(teacher("9001"), wid, no_output["_id"], "小结")
    assert await facts(c, "activity_participation") == []


async def test_statistics_by_subject(settings_env: dict[str, Any], tmp_path: Path) -> None:
    from community_support import PDF

    c = await community(settings_env, tmp_path)
    svc, acts = c.community, c.workshop_activities
    wid = await approved_workshop(c)  # 语文
    members = ["1000", "1001", "1002", "1003"]
    for ce in members:
        await svc.join(teacher(ce), wid)
    act = await acts.create(teacher("9001"), wid, activity())
    for ce in members[:2]:
        await acts.hand_in(teacher(ce), wid, act["_id"], "作业")
    await acts.recommend(teacher("9001"), wid, act["_id"], "1000")
    await acts.recommend(teacher("9001"), wid, act["_id"], "1000")  # one assignment recommended twice: one excellent
    await svc.share(teacher("1000"), title="r", description="", filename="a.pdf", data=PDF, workshop_id=wid)
    await svc.create_topic(teacher("1001"), "坊内", "", wid)
    await svc.create_topic(teacher("5000"), "坊外", "")
    rows = await svc.statistics(CENTRE)
    assert rows[0] == {
        "subject": "语文",
        "workshops": 1,
        "participants": 5,
        "resources": 1,
        "topics": 1,
        "submitted": 2,
        "recommended": 1,
        "submission_rate": "40.00%",
        "excellent_rate": "50.00%",
    }
    assert rows[1]["subject"] == "其他" and rows[1]["topics"] == 1
    assert await code_of(svc.statistics(teacher("1000"))) == "not_moderator"


async def test_segments_added_later_earn_once_each_also_at_once(settings_env: dict[str, Any], tmp_path: Path) -> None:
    c = await community(settings_env, tmp_path)
    acts = c.workshop_activities
    wid = await approved_workshop(c)
    act = await acts.create(teacher("9001"), wid, activity(segments=[{"kind": "article", "title": "读"}]))
    added = await asyncio.gather(
        *(acts.add_segment(teacher("9001"), wid, act["_id"], {"kind": "video", "title": f"看{n}"}) for n in range(5))
    )
    doc = await c.infra.db["activities"].find_one({"_id": act["_id"]})
    assert doc is not None and len(doc["segments"]) == 6
    refs = sorted(f["reference"] for f in await facts(c, "activity_segment_created"))
    assert refs == sorted([act["segments"][0]["id"], *(s["id"] for s in added)])
    assert (
        await code_of(acts.add_segment(teacher("1000"), wid, act["_id"], {"kind": "video", "title": "x"}))
        == "not_workshop_host"
    )
