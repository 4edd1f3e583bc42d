"""The research community on the real store: each rule produces exactly one points fact, also when the
threshold is crossed by simultaneous requests."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from community_support import CENTRE, PDF, approved_workshop, community, facts, pdf, teacher

from jijiao_kit.errors import AppError
from studio.domain.community import PostKind
from studio.service_layer.community import NewWorkshop


async def code_of(call: Any) -> str:
    try:
        await call
    except AppError as exc:
        return exc.code
    return "ok"


async def test_founding_is_decided_by_the_centre_and_earns_the_host_once(
    settings_env: dict[str, Any], tmp_path: Path
) -> None:
    c = await community(settings_env, tmp_path)
    svc = c.community
    applied = await svc.apply_workshop(teacher("9001"), NewWorkshop("初中数学坊", "<b>x</b><script>y</script>"))
    wid = applied["_id"]
    assert applied["status"] == "pending" and "script" not in applied["description"]
    assert await code_of(svc.workshop(teacher("1000"), wid)) == "workshop_not_found"  # pending: not listed
    assert await code_of(svc.decide_workshop(teacher("9001"), wid, True, None)) == "workshop_not_found"
    assert await code_of(svc.decide_workshop(CENTRE, wid, False, " ")) == "reason_required"
    results = await asyncio.gather(
        *(svc.decide_workshop(CENTRE, wid, True, None) for _ in range(5)), return_exceptions=True
    )
    assert sum(isinstance(r, dict) for r in results) == 1
    assert {r.code for r in results if isinstance(r, AppError)} == {"workshop_not_pending"}
    founded = await facts(c, "workshop_founded")
    assert [(f["ce_number"], f["reference"], f["workshop_name"]) for f in founded] == [("9001", wid, "初中数学坊")]
    refused = await svc.apply_workshop(teacher("9002"), NewWorkshop("另一坊", ""))
    await svc.decide_workshop(CENTRE, refused["_id"], False, "名称不规范")
    assert (await svc.workshop(teacher("9002"), refused["_id"]))["reason"] == "名称不规范"
    assert len(await facts(c, "workshop_founded")) == 1


async def test_featuring_once_pays_host_and_each_participant(settings_env: dict[str, Any], tmp_path: Path) -> None:
    c = await community(settings_env, tmp_path)
    svc = c.community
    wid = await approved_workshop(c)
    await asyncio.gather(*(svc.join(teacher(f"10{n:02d}"), wid) for n in range(5)))
    assert await code_of(svc.join(teacher("1000"), wid)) == "already_joined"
    await svc.leave(teacher("1004"), wid)
    assert await code_of(svc.leave(teacher("9001"), wid)) == "host_cannot_leave"
    assert (await svc.workshop(teacher("1000"), wid))["participant_count"] == 5  # host + 4
    results = await asyncio.gather(*(svc.feature(CENTRE, wid) for _ in range(6)), return_exceptions=True)
    assert sum(isinstance(r, dict) for r in results) == 1
    assert await code_of(svc.feature(CENTRE, wid)) == "already_featured"
    host = await facts(c, "workshop_featured_host")
    members = await facts(c, "workshop_featured_participant")
    assert [(f["ce_number"], f["reference"]) for f in host] == [("9001", wid)]
    assert sorted(f["ce_number"] for f in members) == ["1000", "1001", "1002", "1003"]
    assert {f["reference"] for f in members} == {wid}  # once per workshop


async def test_active_workshop_pays_once_when_more_than_ten_take_part_in_real_activities(
    settings_env: dict[str, Any], tmp_path: Path
) -> None:
    c = await community(settings_env, tmp_path)
    svc = c.community
    wid = await approved_workshop(c)
    # an organised activity counts as a real one through the workshop activities' own path, once by its id
    assert await c.workshop_activities.count_real_activity(CENTRE, wid, "a1") is True
    assert await c.workshop_activities.count_real_activity(CENTRE, wid, "a1") is False
    assert (await c.community.workshops.get(wid) or {})["real_activities"] == 1
    await asyncio.gather(*(svc.join(teacher(f"10{n:02d}"), wid) for n in range(9)))  # 10 with the host
    assert await facts(c, "active_workshop_host") == []
    await asyncio.gather(*(svc.join(teacher(f"11{n:02d}"), wid) for n in range(4)))  # the 11th to 14th at once
    assert len(await facts(c, "active_workshop_host")) == 1
    assert len(await facts(c, "active_workshop_participant")) == 10  # the host is paid as host only
    await c.workshop_activities.count_real_activity(CENTRE, wid, "a2")
    assert len(await facts(c, "active_workshop_host")) == 1


async def test_the_same_file_shared_by_twenty_teachers_at_once_earns_once(
    settings_env: dict[str, Any], tmp_path: Path
) -> None:
    c = await community(settings_env, tmp_path)
    svc = c.community
    shares = [
        svc.share(teacher(f"20{n:02d}"), title="教案", description="", filename="a.pdf", data=PDF) for n in range(20)
    ]
    docs = await asyncio.gather(*shares)
    assert sum(d["earns"] for d in docs) == 1
    earned = await facts(c, "shared_resource")
    assert len(earned) == 1 and earned[0]["reference"] == docs[0]["fingerprint"]
    winner = next(d for d in docs if d["earns"])
    assert earned[0]["ce_number"] == winner["owner_ce_number"] and earned[0]["title"] == "教案"
    # the same teacher again, and a different file
    again = await svc.share(teacher(winner["owner_ce_number"]), title="x", description="", filename="b.pdf", data=PDF)
    other = await svc.share(teacher("2000"), title="学案", description="", filename="c.pdf", data=pdf(2))
    assert not again["earns"] and other["earns"]
    assert len(await facts(c, "shared_resource")) == 2
    assert (
        await code_of(svc.share(teacher("2000"), title="x", description="", filename="x.pdf", data=b"<html>%PDF-"))
        == "upload_type"
    )
    _, data = await svc.download(teacher("3000"), other["_id"])
    assert data == pdf(2)


async def test_thirty_simultaneous_ratings_crossing_the_excellent_line_give_one_fact(
    settings_env: dict[str, Any], tmp_path: Path
) -> None:
    c = await community(settings_env, tmp_path)
    svc = c.community
    res = await svc.share(teacher("2000"), title="优质课例", description="", filename="a.pdf", data=PDF)
    rid = res["_id"]
    assert await code_of(svc.rate(teacher("2000"), rid, 5)) == "own_resource"
    assert await code_of(svc.rate(teacher("3000"), rid, 6)) == "invalid_stars"
    for n in range(10):
        await svc.rate(teacher(f"30{n:02d}"), rid, 3)
    await asyncio.gather(*(svc.rate(teacher(f"31{n:02d}"), rid, 3) for n in range(30)))
    doc = await svc.resource(teacher("2000"), rid)
    assert doc["rating_count"] == 40 and doc["excellent"] is True and doc["average_stars"] == 3
    excellent = await facts(c, "excellent_resource")
    assert [(f["ce_number"], f["reference"]) for f in excellent] == [("2000", rid)]
    changed = await svc.rate(teacher("3000"), rid, 1)  # changeable, still one per teacher
    assert changed["rating_count"] == 40 and changed["my_rating"] == 1
    assert len(await facts(c, "excellent_resource")) == 1


async def test_a_low_average_is_not_excellent_until_ratings_change(
    settings_env: dict[str, Any], tmp_path: Path
) -> None:
    c = await community(settings_env, tmp_path)
    svc = c.community
    rid = (await svc.share(teacher("2000"), title="t", description="", filename="a.pdf", data=PDF))["_id"]
    await asyncio.gather(*(svc.rate(teacher(f"30{n:02d}"), rid, 2) for n in range(20)))
    assert await facts(c, "excellent_resource") == []
    await asyncio.gather(*(svc.rate(teacher(f"30{n:02d}"), rid, 4) for n in range(10)))  # changed: 10*4 + 10*2 = 60
    assert len(await facts(c, "excellent_resource")) == 1


async def test_tenth_and_eleventh_replies_at_once_give_one_fact(settings_env: dict[str, Any], tmp_path: Path) -> None:
    c = await community(settings_env, tmp_path)
    svc = c.community
    t = await svc.create_topic(teacher("4000"), "如何上好作文课", "<p>讨论</p><img src=x onerror=alert(1)>")
    tid = t["_id"]
    assert "onerror" not in t["body"]
    await svc.post(teacher("4000"), tid, PostKind.REPLY, "作者自己")  # the author counts neither way
    for n in range(8):
        await svc.post(teacher(f"50{n:02d}"), tid, PostKind.REPLY, "回复")
    await svc.post(teacher("5000"), tid, PostKind.REPLY, "同一人再回复")
    await asyncio.gather(*(svc.post(teacher(f"51{n:02d}"), tid, PostKind.REPLY, "并发") for n in range(3)))  # 9th-11th
    discussed = await facts(c, "discussion_topic")
    assert [(f["ce_number"], f["reference"], f["title"]) for f in discussed] == [("4000", tid, "如何上好作文课")]
    reply = (await svc.topic(teacher("4000"), tid))["posts"][1]
    # comments make participants: 11 repliers + 10 commenters, the 20th at once with others
    await asyncio.gather(
        *(svc.post(teacher(f"52{n:02d}"), tid, PostKind.COMMENT, "评论", reply["_id"]) for n in range(10))
    )
    popular = await facts(c, "popular_topic")
    assert len(popular) == 1 and popular[0]["ce_number"] == "4000"
    topic = await svc.topic(teacher("4000"), tid)
    assert topic["replier_count"] == 11 and topic["participant_count"] == 21 and topic["post_count"] == 23
    assert await code_of(svc.post(teacher("5300"), tid, PostKind.COMMENT, "x", "ffffff")) == "post_not_found"


async def test_hidden_content_is_not_listed_and_earns_nothing(settings_env: dict[str, Any], tmp_path: Path) -> None:
    c = await community(settings_env, tmp_path)
    svc = c.community
    wid = await approved_workshop(c)
    await svc.join(teacher("6000"), wid)
    t = await svc.create_topic(teacher("6000"), "坊内话题", "", wid)
    res = await svc.share(
        teacher("6000"), title="坊内资源", description="", filename="a.pdf", data=PDF, workshop_id=wid
    )
    assert (await facts(c, "shared_resource"))[0]["workshop_id"] == wid
    assert await code_of(svc.hide_topic(teacher("6001"), t["_id"], True)) == "not_moderator"
    await svc.hide_topic(teacher("9001"), t["_id"], True)  # the workshop's host moderates it
    await svc.hide_resource(CENTRE, res["_id"], True)
    assert await svc.list_topics(teacher("7000")) == [] and await svc.list_resources(teacher("7000")) == []
    assert await code_of(svc.post(teacher("7000"), t["_id"], PostKind.REPLY, "x")) == "topic_not_found"
    assert await code_of(svc.rate(teacher("7000"), res["_id"], 5)) == "resource_not_found"
    assert await code_of(svc.create_topic(teacher("7000"), "x", "", wid)) == "not_joined"


@pytest.mark.parametrize("role", ["school_admin"])
async def test_only_teachers_take_part(settings_env: dict[str, Any], tmp_path: Path, role: str) -> None:
    from jijiao_kit.auth import Principal

    c = await community(settings_env, tmp_path)
    admin = Principal(subject="a", roles=frozenset({role}), scopes={"school_id": "s1"})
    assert await code_of(c.community.apply_workshop(admin, NewWorkshop("x", ""))) == "not_teacher"
    assert await code_of(c.community.list_topics(admin)) == "not_teacher"


async def test_satisfaction_one_rating_per_participant_changeable(settings_env: dict[str, Any], tmp_path: Path) -> None:
    from studio.domain.community import Satisfaction

    c = await community(settings_env, tmp_path)
    svc = c.community
    wid = await approved_workshop(c)
    raters = [f"80{n:02d}" for n in range(10)]
    await asyncio.gather(*(svc.join(teacher(ce), wid) for ce in raters))
    assert await code_of(svc.rate_satisfaction(teacher("9001"), wid, Satisfaction.VERY_GOOD)) == "not_joined"
    await asyncio.gather(*(svc.rate_satisfaction(teacher(ce), wid, Satisfaction.GOOD) for ce in raters))
    await asyncio.gather(*(svc.rate_satisfaction(teacher(ce), wid, Satisfaction.BAD) for ce in raters[:3]))
    table = await svc.satisfaction(teacher("8000"), wid)
    counts = {r["level"]: r["count"] for r in table["rows"]}
    assert table["total"] == 10 and counts["good"] == 7 and counts["bad"] == 3 and table["fair_or_better"] == "70.00%"
    assert (await svc.satisfaction(CENTRE))["total"] == 10
    assert await code_of(svc.satisfaction(teacher("8000"))) == "not_moderator"


async def test_a_reply_storm_on_one_topic_counts_every_teacher_once_and_crosses_each_line_once(
    settings_env: dict[str, Any], tmp_path: Path
) -> None:
    """60 teachers reply at once to a fresh topic, 30 of them twice, alongside comments: the counting
    writes share bulk commands (below a line they only need to stay below it, so they do not refuse
    each other), and still each line is crossed by exactly one write, carrying its fact."""
    c = await community(settings_env, tmp_path)
    svc = c.community
    tid = (await svc.create_topic(teacher("4000"), "大班额分层作业", "<p>讨论</p>"))["_id"]
    first = await svc.post(teacher("5999"), tid, PostKind.REPLY, "第一条回复")
    calls = [svc.post(teacher(f"60{n:02d}"), tid, PostKind.REPLY, "回复") for n in range(60)]
    calls += [svc.post(teacher(f"60{n:02d}"), tid, PostKind.REPLY, "再回复") for n in range(30)]
    calls += [svc.post(teacher(f"61{n:02d}"), tid, PostKind.COMMENT, "评论", first["_id"]) for n in range(20)]
    await asyncio.gather(*calls)
    assert len(await facts(c, "discussion_topic")) == 1
    assert len(await facts(c, "popular_topic")) == 1
    topic = await svc.topic(teacher("4000"), tid)
    assert (topic["replier_count"], topic["participant_count"], topic["post_count"]) == (61, 81, 111)
    assert (topic["discussed"], topic["popular"]) == (True, True)
