"""Moderation and the points it must not pay: a hidden workshop's content, duplicates of a file, hidden
replies and hidden files, on the real store."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from community_support import CENTRE, PDF, approved_workshop, community, facts, pdf, teacher

from jijiao_kit.errors import AppError
from studio.domain.community import PostKind


async def code_of(call: Any) -> str:
    try:
        await call
    except AppError as exc:
        return exc.code
    return "ok"


async def test_a_hidden_workshops_resources_and_topics_are_hidden_and_earn_nothing(
    settings_env: dict[str, Any], tmp_path: Path
) -> None:
    c = await community(settings_env, tmp_path)
    svc = c.community
    wid = await approved_workshop(c)  # host 9001
    await svc.join(teacher("6000"), wid)
    res = await svc.share(
        teacher("6000"), title="坊内资源", description="", filename="a.pdf", data=PDF, workshop_id=wid
    )
    rid = res["_id"]
    tid = (await svc.create_topic(teacher("6000"), "坊内话题", "", wid))["_id"]
    outside = await svc.share(teacher("6001"), title="坊外资源", description="", filename="b.pdf", data=pdf(2))
    # one rating short of excellent, one replier short of a discussed topic
    await asyncio.gather(*(svc.rate(teacher(f"30{n:02d}"), rid, 4) for n in range(19)))
    await asyncio.gather(*(svc.post(teacher(f"50{n:02d}"), tid, PostKind.REPLY, "回复") for n in range(9)))
    before = await svc.statistics(CENTRE)
    assert sum(r["resources"] for r in before) == 2 and sum(r["topics"] for r in before) == 1

    await svc.hide_workshop(CENTRE, wid, True)
    reader = teacher("7000")
    assert await svc.list_resources(reader, wid) == [] and await svc.list_topics(reader, wid) == []
    assert [d["_id"] for d in await svc.list_resources(reader)] == [outside["_id"]]
    assert await svc.list_topics(reader) == []
    assert await code_of(svc.resource(reader, rid)) == "resource_not_found"
    assert await code_of(svc.download(reader, rid)) == "resource_not_found"
    assert await code_of(svc.topic(reader, tid)) == "topic_not_found"
    assert await code_of(svc.rate(teacher("3100"), rid, 5)) == "resource_not_found"
    assert await code_of(svc.post(teacher("5100"), tid, PostKind.REPLY, "x")) == "topic_not_found"
    # the host still sees the workshop, but shares and topics in it are refused
    assert await code_of(svc.create_topic(teacher("9001"), "x", "", wid)) == "workshop_hidden"
    host_share = svc.share(teacher("9001"), title="x", description="", filename="c.pdf", data=pdf(3), workshop_id=wid)
    assert await code_of(host_share) == "workshop_hidden"
    # the earning writes refuse in their own filter too (a rating that read the resource before the hide)
    seen = {"rating_count": 19, "rating_sum": 76, "excellent": False}
    update = {"$set": {"ratings.3100": 5, "excellent": True}, "$inc": {"rating_count": 1, "rating_sum": 5}}
    assert await svc.resources.rate(rid, "3100", 5, seen, None, update, []) is False
    after = await svc.statistics(CENTRE)
    assert sum(r["resources"] for r in after) == 1 and sum(r["topics"] for r in after) == 0
    assert await facts(c, "excellent_resource") == [] and await facts(c, "discussion_topic") == []

    await svc.hide_workshop(CENTRE, wid, False)  # shown again: listed and earning again
    assert [d["_id"] for d in await svc.list_resources(reader, wid)] == [rid]
    assert [d["_id"] for d in await svc.list_topics(reader, wid)] == [tid]
    await svc.rate(teacher("3100"), rid, 5)
    await svc.post(teacher("5100"), tid, PostKind.REPLY, "回复")
    assert [f["reference"] for f in await facts(c, "excellent_resource")] == [rid]
    assert [f["reference"] for f in await facts(c, "discussion_topic")] == [tid]


async def test_only_the_earning_share_becomes_excellent_and_no_owner_of_the_file_rates_it(
    settings_env: dict[str, Any], tmp_path: Path
) -> None:
    c = await community(settings_env, tmp_path)
    svc = c.community
    first = await svc.share(teacher("2000"), title="原创", description="", filename="a.pdf", data=PDF)
    copy = await svc.share(teacher("2001"), title="转发", description="", filename="b.pdf", data=PDF)
    third = await svc.share(teacher("2002"), title="再转发", description="", filename="c.pdf", data=PDF)
    assert (first["earns"], copy["earns"], third["earns"]) == (True, False, False)
    assert await code_of(svc.rate(teacher("2000"), copy["_id"], 5)) == "own_resource"  # their file, another's copy
    assert await code_of(svc.rate(teacher("2001"), first["_id"], 5)) == "own_resource"  # owns a copy
    assert await code_of(svc.rate(teacher("2001"), third["_id"], 5)) == "own_resource"  # owns another copy
    # twenty good ratings of a duplicate make nothing excellent; of the earning share, one fact
    await asyncio.gather(*(svc.rate(teacher(f"30{n:02d}"), copy["_id"], 5) for n in range(20)))
    shown = await svc.resource(teacher("3000"), copy["_id"])
    assert shown["rating_count"] == 20 and shown["excellent"] is False
    assert await facts(c, "excellent_resource") == []
    await asyncio.gather(*(svc.rate(teacher(f"30{n:02d}"), first["_id"], 5) for n in range(20)))
    assert [(f["ce_number"], f["reference"]) for f in await facts(c, "excellent_resource")] == [("2000", first["_id"])]


async def test_hidden_replies_stop_counting_toward_lines_not_yet_crossed(
    settings_env: dict[str, Any], tmp_path: Path
) -> None:
    c = await community(settings_env, tmp_path)
    svc = c.community
    tid = (await svc.create_topic(teacher("4000"), "作文课", "<p>讨论</p>"))["_id"]
    replies = {ce: await svc.post(teacher(ce), tid, PostKind.REPLY, "回复") for ce in [f"50{n:02d}" for n in range(9)]}
    twice = await svc.post(teacher("5000"), tid, PostKind.REPLY, "再回复")
    comment = await svc.post(teacher("5100"), tid, PostKind.COMMENT, "评论", replies["5001"]["_id"])
    topic = await svc.topic(teacher("4000"), tid)
    assert (topic["replier_count"], topic["participant_count"], topic["post_count"]) == (9, 10, 11)

    await svc.hide_post(CENTRE, tid, twice["_id"], True)  # 5000 still has a visible reply
    # the same hide five times at once counts once; 5001 had one reply: they leave the repliers
    await asyncio.gather(*(svc.hide_post(CENTRE, tid, replies["5001"]["_id"], True) for _ in range(5)))
    await svc.hide_post(CENTRE, tid, comment["_id"], True)
    topic = await svc.topic(teacher("4000"), tid)
    assert (topic["replier_count"], topic["participant_count"], topic["post_count"]) == (8, 8, 8)
    assert len(topic["posts"]) == 8
    await svc.post(teacher("5200"), tid, PostKind.REPLY, "新回复")  # the ninth replier again, not the tenth
    assert await facts(c, "discussion_topic") == []
    await svc.hide_post(CENTRE, tid, replies["5001"]["_id"], False)  # shown again: counts again, crosses
    assert [f["reference"] for f in await facts(c, "discussion_topic")] == [tid]
    topic = await svc.topic(teacher("4000"), tid)
    assert (topic["replier_count"], topic["discussed"]) == (10, True)
    # below the line again and back up: the line was crossed, its fact stays and is not paid twice
    await svc.hide_post(CENTRE, tid, replies["5002"]["_id"], True)
    assert (await svc.topic(teacher("4000"), tid))["replier_count"] == 9
    await svc.post(teacher("5300"), tid, PostKind.REPLY, "又一个")
    assert len(await facts(c, "discussion_topic")) == 1


async def test_a_hidden_file_does_not_come_back_as_a_duplicate(settings_env: dict[str, Any], tmp_path: Path) -> None:
    c = await community(settings_env, tmp_path)
    svc = c.community
    first = await svc.share(teacher("2000"), title="违规", description="", filename="a.pdf", data=PDF)
    copy = await svc.share(teacher("2001"), title="副本", description="", filename="b.pdf", data=pdf(2))
    await svc.share(teacher("2002"), title="副本的副本", description="", filename="c.pdf", data=pdf(2))
    await svc.hide_resource(CENTRE, first["_id"], True)
    again = svc.share(teacher("2003"), title="再传", description="", filename="d.pdf", data=PDF)
    try:
        await again
        raise AssertionError("a hidden file was shared again")
    except AppError as exc:
        assert (exc.status, exc.code, exc.title) == (409, "content_hidden", "该文件已被屏蔽，不能再次共享")
    assert await c.infra.db["resources"].count_documents({"fingerprint": first["fingerprint"]}) == 1
    await svc.hide_resource(CENTRE, copy["_id"], True)  # a hidden duplicate blocks its bytes as well
    assert await code_of(svc.share(teacher("2004"), title="x", description="", filename="e.pdf", data=pdf(2))) == (
        "content_hidden"
    )
    assert [d["title"] for d in await svc.list_resources(teacher("3000"))] == ["副本的副本"]
