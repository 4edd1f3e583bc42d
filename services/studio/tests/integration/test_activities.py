"""Stages, activities, QR check-in, the summary and the hours it credits, on the real store."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from studio_support import CITY, World, at_round, teacher, world

from jijiao_kit.errors import AppError
from jijiao_kit.timeutil import epoch_ms
from jijiao_stack import samples
from jijiao_stack.pytest_plugin import api_client, bearer
from studio.adapters.mongo import ACTIVITIES
from studio.domain.recruitment import ApplicantRole, Decision
from studio.entrypoints.api.app import create_app

HOST = teacher("9001")


async def studio_with_members(w: World, members: int, students: int = 0) -> str:
    sid = await w.studio("9001")
    ids = [await w.apply(f"1{n:03d}", [sid]) for n in range(members)]
    ids += [await w.apply(f"3{n:03d}", [sid], role=ApplicantRole.STUDENT) for n in range(students)]
    w.clock.set(at_round(1))
    for i in ids:
        await w.container.recruitment.decide(HOST, sid, i, Decision.ADMITTED)
    return str(sid)


def offline(stage_id: str, w: World, **kw: Any) -> dict[str, Any]:
    start = w.clock.now() + timedelta(days=1)
    return {
        "stage_id": stage_id,
        "mode": "offline",
        "type": "offline_research",
        "title": "同课异构线下研修",
        "description": "",
        "place": "一小报告厅",
        "hours": 3.0,
        "starts_ms": epoch_ms(start),
        "ends_ms": epoch_ms(start + timedelta(hours=3)),
        "options": {"checkin": {"required": True}},
        **kw,
    }


async def outbox_events(w: World, activity_id: str, event_type: str) -> list[dict[str, Any]]:
    doc = await w.container.infra.db[ACTIVITIES].find_one({"_id": activity_id})
    assert doc is not None
    bodies = [json.loads(e["body"]) for e in (doc.get("outbox") or {}).values()]
    return [b for b in bodies if b["type"] == event_type]


async def test_stages_are_added_edited_reordered_and_deleted(settings_env: dict[str, Any]) -> None:
    w = await world(settings_env)
    sid = await studio_with_members(w, 1)
    svc = w.container.activities
    a = await svc.add_stage(HOST, sid, "第一阶段", "读书")
    b = await svc.add_stage(HOST, sid, "第二阶段", None)
    await svc.edit_stage(HOST, sid, a["_id"], {"name": "启动阶段"})
    assert [s["name"] for s in await svc.reorder_stages(HOST, sid, [b["_id"], a["_id"]])] == ["第二阶段", "启动阶段"]
    with pytest.raises(AppError) as member:
        await svc.add_stage(teacher("1000"), sid, "x", None)
    assert member.value.code == "not_host"
    await svc.delete_stage(HOST, sid, b["_id"])
    assert [s["_id"] for s in await svc.list_stages(teacher("1000"), sid)] == [a["_id"]]


async def test_only_published_activities_are_visible_and_offline_only_to_members(settings_env: dict[str, Any]) -> None:
    w = await world(settings_env)
    sid = await studio_with_members(w, 1, students=1)
    svc = w.container.activities
    stage = await svc.add_stage(HOST, sid, "阶段", None)
    off = await svc.create(HOST, sid, offline(stage["_id"], w))
    on = await svc.create(
        HOST,
        sid,
        {
            **offline(stage["_id"], w),
            "mode": "online",
            "type": "seminar",
            "options": {},
            "segments": [
                {"kind": "article", "title": "读文章", "required": True},
                {"kind": "video", "title": "看视频", "required": False},
            ],
        },
    )
    member, student = teacher("1000"), teacher("3000")
    assert await svc.listing(member, sid, None) == []
    await svc.publish(HOST, sid, off["_id"])
    await svc.publish(HOST, sid, on["_id"])
    assert {a["_id"] for a in await svc.listing(member, sid, None)} == {off["_id"], on["_id"]}
    assert [a["_id"] for a in await svc.listing(student, sid, None)] == [on["_id"]]
    with pytest.raises(AppError) as hidden:
        await svc.get(student, sid, off["_id"])
    assert hidden.value.code == "activity_not_found"
    published = await outbox_events(w, off["_id"], "studio.activity_published")
    assert published[0]["payload"]["recipients"] == ["1000"]
    online_sent = await outbox_events(w, on["_id"], "studio.activity_published")
    assert sorted(online_sent[0]["payload"]["recipients"]) == ["1000", "3000"]
    # completion follows the required parts
    required = [s["id"] for s in on["segments"] if s["required"]]
    progress = await svc.mark_done(student, sid, on["_id"], required[0])
    assert progress["completed"] is True and progress["required"] == required
    with pytest.raises(AppError) as bad:
        await svc.create(HOST, sid, {**offline(stage["_id"], w), "hours": 0, "place": ""})
    assert bad.value.code == "invalid_activity"


async def test_checkin_tokens_are_bound_signed_and_time_boxed(settings_env: dict[str, Any]) -> None:
    w = await world(settings_env)
    sid = await studio_with_members(w, 2, students=1)
    svc = w.container.activities
    stage = await svc.add_stage(HOST, sid, "阶段", None)
    act = await svc.create(HOST, sid, offline(stage["_id"], w))
    other = await svc.create(HOST, sid, offline(stage["_id"], w))
    for a in (act, other):
        await svc.publish(HOST, sid, a["_id"])
    token = (await svc.checkin_token(HOST, sid, act["_id"]))["token"]
    other_token = (await svc.checkin_token(HOST, sid, other["_id"]))["token"]

    async def code(principal: Any, tok: str) -> str:
        try:
            await svc.check_in(principal, sid, act["_id"], tok)
        except AppError as exc:
            return exc.code
        return "ok"

    assert await code(teacher("1000"), other_token) == "invalid_checkin_token"
    assert await code(teacher("1000"), token[:-3] + "abc") == "invalid_checkin_token"
    assert await code(teacher("3000"), token) == "activity_not_found"  # online students do not see offline ones
    assert await code(teacher("1000"), token) == "ok"
    assert await code(teacher("1000"), token) == "already_checked_in"
    w.clock.advance(timedelta(seconds=w.container.settings.checkin_ttl_seconds + 1))
    assert await code(teacher("1001"), token) == "invalid_checkin_token"
    assert (await svc.attendance(HOST, sid, act["_id"]))["checked_in"] == ["1000"]


async def test_a_burst_of_checkins_counts_each_member_once(settings_env: dict[str, Any]) -> None:
    w = await world(settings_env)
    sid = await studio_with_members(w, 12)
    svc = w.container.activities
    stage = await svc.add_stage(HOST, sid, "阶段", None)
    act = await svc.create(HOST, sid, offline(stage["_id"], w))
    await svc.publish(HOST, sid, act["_id"])
    token = (await svc.checkin_token(HOST, sid, act["_id"]))["token"]
    scans = [svc.check_in(teacher(f"1{n:03d}"), sid, act["_id"], token) for n in range(12) for _ in range(5)]
    results = await asyncio.gather(*scans, return_exceptions=True)
    ok = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, AppError)]
    assert len(ok) == 12 and len(refused) == 48 and {r.code for r in refused} == {"already_checked_in"}
    assert len((await svc.attendance(HOST, sid, act["_id"]))["checked_in"]) == 12


async def test_summary_after_the_end_organises_and_credits_hours_once(settings_env: dict[str, Any]) -> None:
    w = await world(settings_env)
    sid = await studio_with_members(w, 3)
    svc = w.container.activities
    stage = await svc.add_stage(HOST, sid, "阶段", None)
    act = await svc.create(HOST, sid, offline(stage["_id"], w))
    await svc.publish(HOST, sid, act["_id"])
    token = (await svc.checkin_token(HOST, sid, act["_id"]))["token"]
    await svc.check_in(teacher("1000"), sid, act["_id"], token)
    await svc.check_in(teacher("1002"), sid, act["_id"], token)
    with pytest.raises(AppError) as early:
        await svc.write_summary(HOST, sid, act["_id"], "小结")
    assert early.value.code == "activity_not_ended"
    w.clock.set(w.clock.now() + timedelta(days=2))
    done = await asyncio.gather(
        *(svc.write_summary(HOST, sid, act["_id"], "小结") for _ in range(5)), return_exceptions=True
    )
    assert sum(isinstance(d, dict) for d in done) == 1
    assert {d.code for d in done if isinstance(d, AppError)} == {"summary_exists"}
    organised = await svc.get(HOST, sid, act["_id"])
    assert organised["organised"] is True and organised["credited"] == ["1000", "1002"]
    credits = await outbox_events(w, act["_id"], "studio.training_recorded")
    assert sorted((c["payload"]["ce_number"], c["payload"]["role"], c["payload"]["hours"]) for c in credits) == [
        ("1000", "member", 3.0),
        ("1002", "member", 3.0),
        ("9001", "host", 3.0),
    ]
    assert len({c["payload"]["record_id"] for c in credits}) == 3
    with pytest.raises(AppError) as locked:
        await svc.edit(HOST, sid, act["_id"], {"hours": 5.0})
    assert locked.value.code == "activity_not_editable"


async def test_qr_codes_over_http(settings_env: dict[str, Any], make_token: Any) -> None:
    w = await world(settings_env)
    sid = await studio_with_members(w, 1)
    stage = await w.container.activities.add_stage(HOST, sid, "阶段", None)
    act = await w.container.activities.create(HOST, sid, offline(stage["_id"], w))
    host_h = bearer(make_token("teacher", ce_number="9001"))
    member_h = bearer(make_token("teacher", ce_number="1000"))
    async with api_client(create_app(w.container)) as client:
        base = f"/v1/studios/{sid}/activities/{act['_id']}"
        await client.post(f"{base}/publish", headers=host_h)
        png = await client.get(f"{base}/qr.png", headers=member_h)
        svg = await client.get(f"{base}/checkin-qr.svg", headers=host_h)
        member_qr = await client.get(f"{base}/checkin-qr.png", headers=member_h)
        token = (await client.post(f"{base}/checkin-token", headers=host_h)).json()["token"]
        first = await client.post(f"{base}/checkins", json={"token": token}, headers=member_h)
        second = await client.post(f"{base}/checkins", json={"token": token}, headers=member_h)
        forged = await client.post(f"{base}/checkins", json={"token": "x.y.z"}, headers=member_h)
        stranger = await client.get(base, headers=bearer(make_token("teacher", ce_number="7777")))
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert svg.status_code == 200 and b"<svg" in svg.content
    assert member_qr.status_code == 403 and member_qr.json()["code"] == "not_host"
    assert first.status_code == 201
    assert second.status_code == 409 and second.json()["code"] == "already_checked_in"
    assert second.headers["content-type"].startswith("application/problem+json")
    assert forged.status_code == 422 and forged.json()["code"] == "invalid_checkin_token"
    assert stranger.status_code == 404
    assert CITY  # the admin principal stays importable for other tests


async def test_the_host_is_reminded_once_to_write_the_summary(settings_env: dict[str, Any]) -> None:
    w = await world(settings_env)
    sid = await studio_with_members(w, 1)
    svc = w.container.activities
    stage = await svc.add_stage(HOST, sid, "阶段", None)
    act = await svc.create(HOST, sid, offline(stage["_id"], w))
    await svc.publish(HOST, sid, act["_id"])
    assert await svc.remind_summaries() == 0  # not ended yet
    w.clock.set(w.clock.now() + timedelta(days=2))
    assert sorted(await asyncio.gather(svc.remind_summaries(), svc.remind_summaries())) == [0, 1]
    assert await svc.remind_summaries() == 0
    due = await outbox_events(w, act["_id"], "studio.summary_due")
    assert [d["payload"]["host_ce_number"] for d in due] == ["9001"]
    announced = await outbox_events(w, act["_id"], "studio.activity_announced")
    assert [a["payload"]["ce_number"] for a in announced] == ["1000"]


PDF = samples.pdf()


async def test_segments_with_documents_shared_resources_discussion_and_evaluation(settings_env: dict[str, Any]) -> None:
    w = await world(settings_env)
    sid = await studio_with_members(w, 2, students=1)
    svc = w.container.activities
    content = w.container.content
    stage = await svc.add_stage(HOST, sid, "阶段", None)
    doc_file = await content.upload(HOST, sid, "讲义.pdf", PDF, "document")
    segments = [
        {"id": "doc", "kind": "documents", "title": "讲义", "required": True, "file_ids": [doc_file["_id"]]},
        {"id": "res", "kind": "resources", "title": "资源共享", "required": True},
        {"id": "talk", "kind": "discussion", "title": "话题讨论", "required": False},
        {
            "id": "eval",
            "kind": "evaluation",
            "title": "活动评价",
            "required": True,
            "items": [
                {"id": "q1", "kind": "objective", "title": "收获", "max_score": 10},
                {"id": "q2", "kind": "subjective", "title": "建议"},
            ],
        },
    ]
    base = {
        **offline(stage["_id"], w),
        "mode": "online",
        "type": "online_research",
        "options": {},
        "segments": segments,
    }
    with pytest.raises(AppError) as unknown_file:
        await svc.create(HOST, sid, {**base, "segments": [{**segments[0], "file_ids": ["nope"]}]})
    assert unknown_file.value.code == "file_not_found"
    act = await svc.create(HOST, sid, base)
    await svc.publish(HOST, sid, act["_id"])
    student = teacher("3000")
    mine = await content.upload(student, sid, "资源.pdf", PDF, "document")
    theirs = await content.upload(teacher("1000"), sid, "资源.pdf", PDF, "document")

    async def code(call: Any) -> str:
        try:
            await call
        except AppError as exc:
            return exc.code
        return "ok"

    assert (
        await code(svc.submit(student, sid, act["_id"], "res", text=None, file_ids=[], answers={}, reply_to=None))
        == "invalid_activity"
    )
    assert (
        await code(
            svc.submit(student, sid, act["_id"], "res", text=None, file_ids=[theirs["_id"]], answers={}, reply_to=None)
        )
        == "file_not_found"
    )
    await svc.submit(student, sid, act["_id"], "res", text=None, file_ids=[mine["_id"]], answers={}, reply_to=None)
    await svc.submit(
        teacher("1000"), sid, act["_id"], "res", text=None, file_ids=[theirs["_id"]], answers={}, reply_to=None
    )
    assert len(await svc.list_submissions(student, sid, act["_id"], "res")) == 2  # participants see each other's
    post = await svc.submit(
        student, sid, act["_id"], "talk", text="<p>怎么读整本书？</p>", file_ids=[], answers={}, reply_to=None
    )
    await svc.submit(
        teacher("1000"), sid, act["_id"], "talk", text="先读目录", file_ids=[], answers={}, reply_to=post["_id"]
    )
    assert [s["reply_to"] for s in await svc.list_submissions(teacher("1001"), sid, act["_id"], "talk")] == [
        None,
        post["_id"],
    ]
    assert (
        await code(
            svc.submit(
                student, sid, act["_id"], "eval", text=None, file_ids=[], answers={"q1": 11, "q2": "好"}, reply_to=None
            )
        )
        == "invalid_activity"
    )
    assert (
        await code(
            svc.submit(student, sid, act["_id"], "eval", text=None, file_ids=[], answers={"q1": 9}, reply_to=None)
        )
        == "invalid_activity"
    )
    await svc.submit(
        student, sid, act["_id"], "eval", text=None, file_ids=[], answers={"q1": 9, "q2": "很好"}, reply_to=None
    )
    assert (
        await code(
            svc.submit(
                student, sid, act["_id"], "eval", text=None, file_ids=[], answers={"q1": 9, "q2": "很好"}, reply_to=None
            )
        )
        == "already_decided"
    )
    assert len(await svc.list_submissions(teacher("1000"), sid, act["_id"], "eval")) == 0  # answers are private
    assert len(await svc.list_submissions(HOST, sid, act["_id"], "eval")) == 1
    progress = await svc.mark_done(student, sid, act["_id"], "doc")
    assert progress["completed"] is True and progress["done"] == ["doc", "eval", "res", "talk"]


async def test_an_online_activity_with_more_than_ten_participants_and_outputs_earns_participation_points_once(
    settings_env: dict[str, Any],
) -> None:
    """Regulation item (7): online studio activities earn points by the community's rules; one
    ``activity_participation`` fact per participant (the host excluded), also under parallel summaries."""
    w = await world(settings_env)
    sid = await studio_with_members(w, 12)
    svc, content = w.container.activities, w.container.content
    stage = await svc.add_stage(HOST, sid, "阶段", None)
    segments = [
        {"id": "read", "kind": "article", "title": "阅读", "required": True, "text": "<p>文章</p>"},
        {"id": "res", "kind": "resources", "title": "资源共享", "required": False},
    ]
    online = {**offline(stage["_id"], w), "mode": "online", "type": "online_research", "options": {}}
    busy = await svc.create(HOST, sid, {**online, "segments": segments})
    quiet = await svc.create(HOST, sid, {**online, "title": "无成果", "segments": segments})
    for act in (busy, quiet):
        await svc.publish(HOST, sid, act["_id"])
    members = [f"1{n:03d}" for n in range(12)]
    await asyncio.gather(
        *(svc.mark_done(teacher(ce), sid, act["_id"], "read") for ce in members for act in (busy, quiet))
    )
    await svc.mark_done(HOST, sid, busy["_id"], "read")  # the host takes no participation points
    shared = await content.upload(teacher("1000"), sid, "资源.pdf", PDF, "document")
    await svc.submit(
        teacher("1000"), sid, busy["_id"], "res", text=None, file_ids=[shared["_id"]], answers={}, reply_to=None
    )
    w.clock.set(w.clock.now() + timedelta(days=2))
    done = await asyncio.gather(
        *(svc.write_summary(HOST, sid, busy["_id"], "小结") for _ in range(4)), return_exceptions=True
    )
    assert sum(isinstance(d, dict) for d in done) == 1
    await svc.write_summary(HOST, sid, quiet["_id"], "小结")
    facts = [
        f
        for f in await outbox_events(w, busy["_id"], "studio.points_fact_recorded")
        if f["payload"]["rule"] != "shared_resource"  # the share itself earns too (the next test)
    ]
    assert sorted(f["payload"]["ce_number"] for f in facts) == members
    assert {(f["payload"]["rule"], f["payload"]["reference"]) for f in facts} == {
        ("activity_participation", busy["_id"])
    }
    assert len({f["payload"]["fact_id"] for f in facts}) == 12
    assert await outbox_events(w, quiet["_id"], "studio.points_fact_recorded") == []  # no outputs: no points
    assert await outbox_events(w, busy["_id"], "studio.training_recorded") == []  # online: no studio hours


async def test_a_shared_resource_earns_its_first_sharer_once_and_duplicates_nothing(
    settings_env: dict[str, Any],
) -> None:
    """共享资源 in an online activity's resource segment: 20 points by the community's ``shared_resource``
    rule (reference = sha256); the same bytes shared at the same moment by two members make one fact."""
    import hashlib

    w = await world(settings_env)
    sid = await studio_with_members(w, 3)
    svc, content = w.container.activities, w.container.content
    stage = await svc.add_stage(HOST, sid, "阶段", None)
    segments = [{"id": "res", "kind": "resources", "title": "资源共享", "required": True}]
    online = {**offline(stage["_id"], w), "mode": "online", "type": "online_research", "options": {}}
    act = await svc.create(HOST, sid, {**online, "segments": segments})
    await svc.publish(HOST, sid, act["_id"])
    other = samples.pdf("other")
    same_a = await content.upload(teacher("1000"), sid, "教案.pdf", PDF, "document")
    same_b = await content.upload(teacher("1001"), sid, "教案副本.pdf", PDF, "document")
    own = await content.upload(teacher("1002"), sid, "课件.pdf", other, "document")

    def share(ce: str, file_id: str) -> Any:
        return svc.submit(teacher(ce), sid, act["_id"], "res", text=None, file_ids=[file_id], answers={}, reply_to=None)

    await asyncio.gather(share("1000", same_a["_id"]), share("1001", same_b["_id"]), share("1002", own["_id"]))
    await share("1000", same_a["_id"])  # shared again: stored, earns nothing
    facts = await outbox_events(w, act["_id"], "studio.points_fact_recorded")
    assert {f["payload"]["rule"] for f in facts} == {"shared_resource"}
    by_reference = {f["payload"]["reference"]: f["payload"]["ce_number"] for f in facts}
    assert len(facts) == 2 and set(by_reference) == {hashlib.sha256(PDF).hexdigest(), hashlib.sha256(other).hexdigest()}
    assert by_reference[hashlib.sha256(PDF).hexdigest()] in {"1000", "1001"}
    assert by_reference[hashlib.sha256(other).hexdigest()] == "1002"


async def test_a_discussion_segment_with_ten_repliers_and_twenty_participants_earns_the_host_once(
    settings_env: dict[str, Any],
) -> None:
    """A discussion segment is a topic of the host: >= 10 distinct repliers earn ``discussion_topic`` 10,
    >= 20 participants (repliers and commenters) ``popular_topic`` 10, each exactly once under parallel
    replies (the community's rules and references)."""
    from studio.adapters.mongo import STUDIOS

    w = await world(settings_env)
    sid = await w.studio("9001")
    await w.container.infra.db[STUDIOS].update_one({"_id": sid}, {"$set": {"member_quota.max": 30}})
    ids = [await w.apply(f"1{n:03d}", [sid]) for n in range(24)]
    w.clock.set(at_round(1))
    for i in ids:
        await w.container.recruitment.decide(HOST, sid, i, Decision.ADMITTED)
    svc = w.container.activities
    stage = await svc.add_stage(HOST, sid, "阶段", None)
    segments = [{"id": "talk", "kind": "discussion", "title": "话题讨论", "required": False}]
    online = {**offline(stage["_id"], w), "mode": "online", "type": "online_research", "options": {}}
    act = await svc.create(HOST, sid, {**online, "segments": segments})
    await svc.publish(HOST, sid, act["_id"])

    def say(ce: str, reply_to: str | None = None) -> Any:
        return svc.submit(teacher(ce), sid, act["_id"], "talk", text="观点", file_ids=[], answers={}, reply_to=reply_to)

    first = await say("1000")
    # 9 distinct repliers so far (1000..1008), two of them twice: no fact yet
    await asyncio.gather(*(say(f"1{n:03d}") for n in range(1, 9)), say("1001"), say("1002"))
    assert await outbox_events(w, act["_id"], "studio.points_fact_recorded") == []
    # the tenth and more repliers at once, plus commenters: one discussion_topic, one popular_topic
    await asyncio.gather(
        *(say(f"1{n:03d}") for n in range(9, 14)),
        *(say(f"1{n:03d}", first["_id"]) for n in range(14, 24)),
        *(say(f"1{n:03d}", first["_id"]) for n in range(0, 5)),
    )
    facts = await outbox_events(w, act["_id"], "studio.points_fact_recorded")
    assert sorted((f["payload"]["rule"], f["payload"]["ce_number"], f["payload"]["reference"]) for f in facts) == [
        ("discussion_topic", "9001", f"{act['_id']}:talk"),
        ("popular_topic", "9001", f"{act['_id']}:talk"),
    ]
    topic = (await w.container.infra.db[ACTIVITIES].find_one({"_id": act["_id"]}) or {})["topics"]["talk"]
    assert (topic["replier_count"], topic["participant_count"]) == (14, 24)
