"""Workshop activities on the studio's activity model: segments, assignments, recommendations, the summary."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from community_support import CENTRE, T0, approved_workshop, community, facts, teacher

from jijiao_kit.clock import FixedClock
from jijiao_kit.errors import AppError
from jijiao_kit.timeutil import epoch_ms
from jijiao_stack.pytest_plugin import api_client, bearer
from studio.bootstrap import Container
from studio.entrypoints.api.app import create_app


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


def move_clock(c: Container, delta: timedelta) -> None:
    clock = c.community.clock
    assert isinstance(clock, FixedClock)
    clock.advance(delta)


def after_the_end(c: Container) -> None:
    """Past ``activity()``'s end: its summary may be written."""
    move_clock(c, timedelta(days=4))


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
    assert await code_of(acts.hand_in(teacher("9001"), wid, aid, "坊主的作业")) == "host_cannot_hand_in"
    await acts.recommend(teacher("9001"), wid, aid, "1000")
    assert await code_of(acts.recommend(teacher("9001"), wid, aid, "1000")) == "already_recommended"
    rec = await facts(c, "assignment_recommended")
    assert [(f["ce_number"], f["reference"]) for f in rec] == [("1000", f"{aid}:1000:assignment")]
    assert await code_of(acts.organise(teacher("9001"), wid, aid, "小结")) == "activity_not_ended"
    after_the_end(c)
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


async def test_nine_participants_or_no_outputs_earn_no_participation(
    settings_env: dict[str, Any], tmp_path: Path
) -> None:
    c = await community(settings_env, tmp_path)
    svc, acts = c.community, c.workshop_activities
    wid = await approved_workshop(c)
    members = [f"10{n:02d}" for n in range(10)]
    await asyncio.gather(*(svc.join(teacher(ce), wid) for ce in members))
    few = await acts.create(teacher("9001"), wid, activity())
    for ce in members[:9]:
        await acts.hand_in(teacher(ce), wid, few["_id"], "作业")
    await acts.do_part(teacher("9001"), wid, few["_id"], few["segments"][0]["id"])  # the host is not counted
    no_output = await acts.create(teacher("9001"), wid, activity())
    for ce in members:
        await acts.do_part(teacher(ce), wid, no_output["_id"], no_output["segments"][0]["id"])
    after_the_end(c)
    await acts.organise(teacher("9001"), wid, few["_id"], "小结")
    await acts.organise(teacher("9001"), wid, no_output["_id"], "小结")
    assert await facts(c, "activity_participation") == []


async def test_ten_teachers_besides_the_host_are_10_ren_yishang(settings_env: dict[str, Any], tmp_path: Path) -> None:
    """ "10人以上": ten participants other than the host earn the activity rule, and with a real activity a
    workshop of its host and ten others is active."""
    c = await community(settings_env, tmp_path)
    svc, acts = c.community, c.workshop_activities
    wid = await approved_workshop(c)
    members = [f"10{n:02d}" for n in range(10)]
    await asyncio.gather(*(svc.join(teacher(ce), wid) for ce in members))
    act = await acts.create(teacher("9001"), wid, activity())
    await asyncio.gather(*(acts.hand_in(teacher(ce), wid, act["_id"], "作业") for ce in members))
    after_the_end(c)
    organised = await acts.organise(teacher("9001"), wid, act["_id"], "小结")
    assert (organised["participants"], organised["outputs"]) == (10, 10)
    assert sorted(f["ce_number"] for f in await facts(c, "activity_participation")) == members
    assert len(await facts(c, "active_workshop_host")) == 1
    assert sorted(f["ce_number"] for f in await facts(c, "active_workshop_participant")) == members


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
    await svc.share(teacher("1000"), title="r", description="", filename="a.pdf", data=PDF, workshop_id=wid)
    await svc.create_topic(teacher("1001"), "坊内", "", wid)
    await svc.create_topic(teacher("5000"), "坊外", "")
    logs = c.research_logs
    await logs.write(teacher("1000"), "坊内日志", "<p>今天</p>", wid)
    hidden = await logs.write(teacher("1001"), "坊内日志二", "", wid)
    await logs.hide(teacher("9001"), hidden["_id"], True)  # hidden: not counted
    await logs.write(teacher("5000"), "坊外日志", "")
    await logs.write(teacher("5001"), "坊外日志二", "")
    rows = await svc.statistics(CENTRE)
    assert rows[0] == {
        "subject": "语文",
        "workshops": 1,
        "participants": 5,
        "resources": 1,
        "logs": 1,
        "topics": 1,
        "submitted": 2,
        "recommended": 1,
        "submission_rate": "40.00%",
        "excellent_rate": "50.00%",
    }
    assert rows[1]["subject"] == "其他" and (rows[1]["topics"], rows[1]["logs"]) == (1, 2)
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


async def test_simultaneous_recommendations_of_one_assignment_give_one_fact(
    settings_env: dict[str, Any], tmp_path: Path
) -> None:
    c = await community(settings_env, tmp_path)
    svc, acts = c.community, c.workshop_activities
    wid = await approved_workshop(c)
    await svc.join(teacher("1000"), wid)
    act = await acts.create(teacher("9001"), wid, activity())
    await acts.hand_in(teacher("1000"), wid, act["_id"], "作业")
    results = await asyncio.gather(
        *(code_of(acts.recommend(teacher("9001"), wid, act["_id"], "1000")) for _ in range(10))
    )
    assert sorted(results) == ["already_recommended"] * 9 + ["ok"]
    rec = await facts(c, "assignment_recommended")
    assert [(f["ce_number"], f["reference"]) for f in rec] == [("1000", f"{act['_id']}:1000:assignment")]
    (listed,) = await acts.assignments(teacher("9001"), wid, act["_id"])
    assert listed["ce_number"] == "1000" and listed["recommended"] is True


async def test_the_host_recommends_no_assignment_of_their_own(settings_env: dict[str, Any], tmp_path: Path) -> None:
    """Even one the store holds from before the hand-in rule: the host's own assignment earns nothing."""
    c = await community(settings_env, tmp_path)
    acts = c.workshop_activities
    wid = await approved_workshop(c)
    act = await acts.create(teacher("9001"), wid, activity())
    assert await acts.parts.record(act["_id"], "9001", "assignment", 1, {"text": "旧数据"})
    assert await code_of(acts.recommend(teacher("9001"), wid, act["_id"], "9001")) == "own_assignment"
    assert await facts(c, "assignment_recommended") == []


async def test_rich_text_of_an_activity_and_its_summary_is_sanitised(
    settings_env: dict[str, Any], tmp_path: Path
) -> None:
    c = await community(settings_env, tmp_path)
    acts = c.workshop_activities
    wid = await approved_workshop(c)
    evil = '<p onclick="x()">好<script>alert(1)</script><a href="javascript:alert(1)">链接</a></p>'
    act = await acts.create(teacher("9001"), wid, activity(description=evil))
    after_the_end(c)
    await acts.organise(teacher("9001"), wid, act["_id"], evil)
    stored = await c.infra.db["activities"].find_one({"_id": act["_id"]})
    assert stored is not None
    for text in (stored["description"], stored["summary"]["text"]):
        assert "<p>好" in text and "script" not in text and "onclick" not in text and "javascript" not in text


async def test_a_real_activity_counts_once_and_the_repair_counts_one_whose_count_was_lost(
    settings_env: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = await community(settings_env, tmp_path)
    svc, acts = c.community, c.workshop_activities
    wid = await approved_workshop(c)
    members = [f"10{n:02d}" for n in range(10)]
    await asyncio.gather(*(svc.join(teacher(ce), wid) for ce in members))
    first = await acts.create(teacher("9001"), wid, activity())
    second = await acts.create(teacher("9001"), wid, activity())
    for act in (first, second):
        await acts.do_part(teacher("1000"), wid, act["_id"], act["segments"][0]["id"])
    after_the_end(c)

    async def crash(*args: Any) -> bool:
        raise RuntimeError("the process stopped between the two writes")

    monkeypatch.setattr(acts, "count_real_activity", crash)
    with pytest.raises(RuntimeError):
        await acts.organise(teacher("9001"), wid, first["_id"], "小结")
    monkeypatch.undo()
    workshop = await svc.workshops.get(wid)
    assert workshop is not None and workshop["real_activities"] == 0 and not workshop["active"]

    assert await acts.repair_real_activities() == 0  # within the grace: a request may still be counting it
    move_clock(c, timedelta(minutes=2))
    counted = await asyncio.gather(*(acts.repair_real_activities() for _ in range(3)))
    assert sum(counted) == 1
    workshop = await svc.workshops.get(wid)
    assert workshop is not None and workshop["real_activities"] == 1 and workshop["active"]
    assert len(await facts(c, "active_workshop_host")) == 1
    assert len(await facts(c, "active_workshop_participant")) == 10

    # counting the same activity again (a retry, a repair after all) changes nothing
    again = await asyncio.gather(*(acts.count_real_activity(CENTRE, wid, first["_id"]) for _ in range(5)))
    assert not any(again)
    await acts.organise(teacher("9001"), wid, second["_id"], "小结")
    assert await acts.repair_real_activities(grace_ms=0) == 0  # counted by the request, nothing pending
    workshop = await svc.workshops.get(wid)
    assert (
        workshop is not None
        and workshop["real_activities"] == 2
        and set(workshop["real"])
        == {
            first["_id"],
            second["_id"],
        }
    )
    assert len(await facts(c, "active_workshop_host")) == 1


async def test_assignments_and_recommendations_over_http(
    settings_env: dict[str, Any], tmp_path: Path, make_token: Any
) -> None:
    c = await community(settings_env, tmp_path)
    wid = await approved_workshop(c)
    other = await approved_workshop(c, host="9002", name="初中数学研修坊")
    await c.community.join(teacher("1000"), wid)
    act = await c.workshop_activities.create(teacher("9001"), wid, activity())
    base = f"/v1/community/workshops/{wid}/activities/{act['_id']}"
    host = bearer(make_token("teacher", ce_number="9001"))
    author = bearer(make_token("teacher", ce_number="1000"))
    async with api_client(create_app(c)) as client:
        handed = await client.post(f"{base}/assignments", json={"text": "<p>作业</p>"}, headers=author)
        assert handed.status_code == 201, handed.text
        refused = await client.post(f"{base}/assignments", json={"text": "坊主"}, headers=host)
        assert refused.status_code == 409 and refused.json()["code"] == "host_cannot_hand_in"
        for token in (host, bearer(make_token("remote_centre"))):
            listed = await client.get(f"{base}/assignments", headers=token)
            assert listed.status_code == 200, listed.text
            assert [(a["ce_number"], a["recommended"]) for a in listed.json()] == [("1000", False)]
        for token, code in (
            (author, "not_workshop_host"),
            (bearer(make_token("teacher", ce_number="9002")), "not_workshop_host"),
            (bearer(make_token("district_admin", district="天河区")), "not_teacher"),
        ):
            answer = await client.get(f"{base}/assignments", headers=token)
            assert answer.status_code in (403, 404) and answer.json()["code"] == code and "1000" not in answer.text
        elsewhere = await client.get(
            f"/v1/community/workshops/{other}/activities/{act['_id']}/assignments",
            headers=bearer(make_token("teacher", ce_number="9002")),
        )
        assert elsewhere.status_code == 404 and elsewhere.json()["code"] == "activity_not_found"
        first = await client.post(f"{base}/recommendations", json={"ce_number": "1000"}, headers=host)
        assert first.status_code == 201, first.text
        second = await client.post(f"{base}/recommendations", json={"ce_number": "1000"}, headers=host)
        assert second.status_code == 409 and second.json()["code"] == "already_recommended"
        listed = await client.get(f"{base}/assignments", headers=host)
        assert [a["recommended"] for a in listed.json()] == [True]


async def test_workshop_activities_are_the_studio_activity_services(
    settings_env: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One implementation: a workshop's activity is built, extended, done and organised by the studio's
    activity service (``owner_kind`` "workshop"), which the studio's own activities go through too
    ("studio"); a workshop's activity is nobody's studio activity, and no summary reminder names it."""
    c = await community(settings_env, tmp_path)
    svc, acts = c.community, c.workshop_activities
    assert acts.activities is c.activities and acts.parts is c.activities.parts
    calls: list[str] = []
    for name in ("new_activity", "owned", "append_segment", "record_part", "organise"):
        original = getattr(c.activities, name)

        def spy(*args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(c.activities, name, spy)
    wid = await approved_workshop(c)
    await svc.join(teacher("1000"), wid)
    act = await acts.create(teacher("9001"), wid, activity())
    assert act["owner_kind"] == "workshop" and act["studio_id"] == wid and act["status"] == "published"
    await acts.add_segment(teacher("9001"), wid, act["_id"], {"kind": "video", "title": "看"})
    await acts.do_part(teacher("1000"), wid, act["_id"], act["segments"][0]["id"])
    assert await code_of(acts.do_part(teacher("1000"), wid, act["_id"], "nosuchpart")) == "invalid_activity"
    after_the_end(c)
    await acts.organise(teacher("9001"), wid, act["_id"], "小结")
    assert {"new_activity", "owned", "append_segment", "record_part", "organise"} <= set(calls)
    monkeypatch.undo()
    # the studio's side of the one model: no studio has this activity, and the reminder job skips it
    assert await code_of(c.activities.owned("studio", wid, act["_id"])) == "activity_not_found"
    ended = await acts.create(teacher("9001"), wid, activity(ends_ms=epoch_ms(T0 + timedelta(days=1))))
    assert (act["order"], ended["order"]) == (0, 1)  # placed among the workshop's activities
    assert ended["_id"] not in {a["_id"] for a in await c.activities.activities.summary_due(epoch_ms(T0) * 2)}
    assert await c.activities.remind_summaries() == 0


async def test_the_host_or_the_centre_grades_assignments_and_the_last_grade_counts(
    settings_env: dict[str, Any], tmp_path: Path
) -> None:
    c = await community(settings_env, tmp_path)
    svc, acts = c.community, c.workshop_activities
    wid = await approved_workshop(c)
    other = await approved_workshop(c, host="9002", name="初中数学研修坊")
    for ce in ("1000", "1001", "1002"):
        await svc.join(teacher(ce), wid)
    act = await acts.create(teacher("9001"), wid, activity())
    aid = act["_id"]
    for ce in ("1000", "1001", "1002"):
        await acts.hand_in(teacher(ce), wid, aid, "作业")
    first, second = f"{aid}:1000:assignment", f"{aid}:1001:assignment"
    graded = await acts.grade(teacher("9001"), wid, aid, first, True)
    assert (graded["ce_number"], graded["passed"]) == ("1000", True)
    await acts.grade(teacher("9001"), wid, aid, second, True)
    await acts.grade(CENTRE, wid, aid, second, False)  # changeable: the last grade wins
    listed = {a["ce_number"]: a["passed"] for a in await acts.assignments(teacher("9001"), wid, aid)}
    assert listed == {"1000": True, "1001": False, "1002": None}  # 1002: not graded yet
    after_the_end(c)
    await acts.organise(teacher("9001"), wid, aid, "小结")
    await acts.grade(teacher("9001"), wid, aid, second, True)  # grading goes on after the summary
    listed = {a["ce_number"]: a["passed"] for a in await acts.assignments(CENTRE, wid, aid)}
    assert listed == {"1000": True, "1001": True, "1002": None}
    for who, assignment, code in (
        (teacher("1000"), first, "not_workshop_host"),  # the author
        (teacher("9002"), first, "not_workshop_host"),  # another workshop's host
        (teacher("9001"), f"{aid}:7777:assignment", "assignment_not_found"),  # none handed in
        (teacher("9001"), f"{aid}:9001:assignment", "assignment_not_found"),
        (teacher("9001"), f"abc{aid}:1000:assignment", "assignment_not_found"),  # another activity's id
    ):
        assert await code_of(acts.grade(who, wid, aid, assignment, False)) == code
    assert await code_of(acts.grade(teacher("9002"), other, aid, first, False)) == "activity_not_found"
    assert await facts(c, "assignment_recommended") == []  # a grade earns no points
    rows = await acts.assignment_statistics(CENTRE, "district")
    assert (rows[-1]["submitted"], rows[-1]["passed"], rows[-1]["pass_rate"]) == (3, 2, "66.67%")


async def test_grading_over_http(settings_env: dict[str, Any], tmp_path: Path, make_token: Any) -> None:
    c = await community(settings_env, tmp_path)
    wid = await approved_workshop(c)
    await c.community.join(teacher("1000"), wid)
    act = await c.workshop_activities.create(teacher("9001"), wid, activity())
    base = f"/v1/community/workshops/{wid}/activities/{act['_id']}/assignments"
    host = bearer(make_token("teacher", ce_number="9001"))
    author = bearer(make_token("teacher", ce_number="1000"))
    async with api_client(create_app(c)) as client:
        handed = await client.post(base, json={"text": "作业"}, headers=author)
        assert handed.status_code == 201, handed.text
        assignment = handed.json()["id"]
        graded = await client.post(f"{base}/{assignment}/grade", json={"passed": False}, headers=host)
        assert graded.status_code == 200 and graded.json()["passed"] is False, graded.text
        regraded = await client.post(
            f"{base}/{assignment}/grade", json={"passed": True}, headers=bearer(make_token("remote_centre"))
        )
        assert regraded.status_code == 200 and regraded.json()["passed"] is True, regraded.text
        assert [a["passed"] for a in (await client.get(base, headers=host)).json()] == [True]
        refused = await client.post(f"{base}/{assignment}/grade", json={"passed": False}, headers=author)
        assert refused.status_code == 403 and refused.json()["code"] == "not_workshop_host"
        malformed = await client.post(f"{base}/not-an-id/grade", json={"passed": True}, headers=host)
        assert malformed.status_code == 422
        missing = await client.post(f"{base}/{assignment}/grade", json={}, headers=host)
        assert missing.status_code == 422
