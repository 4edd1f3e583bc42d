"""Teachers' research logs (研修日志): write, edit and delete one's own, listing without hidden ones,
moderation by the centre and the workshop's host, no points, and the logs per subject (also as .xlsx)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from community_support import CENTRE, approved_workshop, community, facts, teacher
from openpyxl import load_workbook
from test_workshop_activities import code_of

from jijiao_stack.pytest_plugin import api_client, bearer
from studio.entrypoints.api.app import create_app

EVIL = '<p onclick="x()">今天<script>alert(1)</script><a href="javascript:alert(1)">链接</a></p>'


async def test_a_teacher_writes_edits_and_deletes_their_own_logs(settings_env: dict[str, Any], tmp_path: Path) -> None:
    c = await community(settings_env, tmp_path)
    logs = c.research_logs
    wid = await approved_workshop(c)
    assert await code_of(logs.write(teacher("1000"), "坊内", "", wid)) == "not_joined"
    await c.community.join(teacher("1000"), wid)
    log = await logs.write(teacher("1000"), "第一天", EVIL, wid)
    assert "<p>今天" in log["body"] and "script" not in log["body"] and "onclick" not in log["body"]
    assert "javascript" not in log["body"]
    assert (await logs.get(teacher("2000"), log["_id"]))["title"] == "第一天"  # everyone in the community reads it
    assert await code_of(logs.edit(teacher("2000"), log["_id"], "改", None)) == "not_log_author"
    edited = await logs.edit(teacher("1000"), log["_id"], None, EVIL.replace("今天", "明天"))
    assert edited["title"] == "第一天" and "<p>明天" in edited["body"] and "script" not in edited["body"]
    stored = await logs.get(CENTRE, log["_id"])
    assert stored["body"] == edited["body"]
    other = await logs.write(teacher("2000"), "别人的", "")
    assert [d["_id"] for d in await logs.listing(teacher("2000"))] == [other["_id"], log["_id"]]
    assert [d["_id"] for d in await logs.listing(teacher("2000"), workshop_id=wid)] == [log["_id"]]
    assert [d["_id"] for d in await logs.listing(CENTRE, author="2000")] == [other["_id"]]
    assert await code_of(logs.delete(teacher("2000"), log["_id"])) == "not_log_author"
    await logs.delete(teacher("1000"), log["_id"])
    assert await code_of(logs.get(teacher("1000"), log["_id"])) == "log_not_found"
    assert await code_of(logs.delete(teacher("1000"), log["_id"])) == "log_not_found"
    assert await code_of(logs.write(CENTRE, "中心", "")) == "not_teacher"
    assert {f["rule"] for f in await facts(c)} == {"workshop_founded"}  # a log earns nothing


async def test_the_centre_or_the_workshop_host_hides_a_log(settings_env: dict[str, Any], tmp_path: Path) -> None:
    c = await community(settings_env, tmp_path)
    logs = c.research_logs
    wid = await approved_workshop(c)
    await approved_workshop(c, host="9002", name="初中数学研修坊")
    await c.community.join(teacher("1000"), wid)
    inside = await logs.write(teacher("1000"), "坊内", "", wid)
    outside = await logs.write(teacher("1000"), "坊外", "")
    assert await code_of(logs.hide(teacher("9002"), inside["_id"], True)) == "not_moderator"  # another host
    assert await code_of(logs.hide(teacher("9001"), outside["_id"], True)) == "not_moderator"  # not in their workshop
    assert await code_of(logs.hide(teacher("1000"), inside["_id"], True)) == "not_moderator"  # the author
    assert (await logs.hide(teacher("9001"), inside["_id"], True))["hidden"] is True
    await logs.hide(CENTRE, outside["_id"], True)
    assert await logs.listing(teacher("2000")) == [] and await logs.listing(CENTRE) == []
    assert await code_of(logs.get(teacher("2000"), inside["_id"])) == "log_not_found"
    assert (await logs.get(teacher("1000"), inside["_id"]))["hidden"] is True  # the author still opens it
    await logs.edit(teacher("1000"), inside["_id"], "改过", None)
    assert (await logs.get(CENTRE, inside["_id"]))["hidden"] is True  # an edit does not show it again
    assert (await logs.hide(teacher("9001"), inside["_id"], False))["hidden"] is False  # the host shows it again
    assert [d["_id"] for d in await logs.listing(teacher("2000"))] == [inside["_id"]]


async def test_logs_over_http_and_per_subject_in_the_export(
    settings_env: dict[str, Any], tmp_path: Path, make_token: Any
) -> None:
    c = await community(settings_env, tmp_path)
    wid = await approved_workshop(c)  # 语文
    await c.community.join(teacher("1000"), wid)
    author = bearer(make_token("teacher", ce_number="1000"))
    host = bearer(make_token("teacher", ce_number="9001"))
    centre = bearer(make_token("remote_centre"))
    async with api_client(create_app(c)) as client:
        written = await client.post("/v1/community/logs", json={"title": "日志", "body": EVIL, "workshop_id": wid},
                                    headers=author)  # fmt: skip
        assert written.status_code == 201, written.text
        log = written.json()
        assert log["author_ce_number"] == "1000" and "script" not in log["body"]
        await client.post("/v1/community/logs", json={"title": "坊外"}, headers=author)
        assert (await client.post("/v1/community/logs", json={"title": ""}, headers=author)).status_code == 422
        assert (await client.post("/v1/community/logs", json={"title": "x"})).status_code == 401
        listed = await client.get("/v1/community/logs", params={"workshop_id": wid}, headers=host)
        assert [d["id"] for d in listed.json()] == [log["id"]]
        patched = await client.patch(f"/v1/community/logs/{log['id']}", json={"title": "新标题"}, headers=author)
        assert patched.status_code == 200 and patched.json()["title"] == "新标题"
        refused = await client.patch(f"/v1/community/logs/{log['id']}", json={"title": "x"}, headers=host)
        assert refused.status_code == 403 and refused.json()["code"] == "not_log_author"

        answer = await client.get("/v1/community/statistics/subjects.xlsx", headers=centre)
        assert answer.status_code == 200, answer.text
        sheet = load_workbook(io.BytesIO(answer.content)).active
        assert sheet is not None
        rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
        assert (
            rows[0][:5] == ["学科", "工作坊数", "参训人数", "共享资源数", "研修日志数"] and rows[0][5] == "研讨话题数"
        )
        assert (rows[1][0], rows[1][4]) == ("语文", 1) and (rows[2][0], rows[2][4]) == ("其他", 1)

        hidden = await client.put(f"/v1/community/logs/{log['id']}/hidden", json={"hidden": True}, headers=host)
        assert hidden.status_code == 200 and hidden.json()["hidden"] is True
        stats = (await client.get("/v1/community/statistics/subjects", headers=centre)).json()
        assert [(r["subject"], r["logs"]) for r in stats] == [("语文", 0), ("其他", 1)]  # hidden: not counted
        deleted = await client.delete(f"/v1/community/logs/{log['id']}", headers=author)
        assert deleted.status_code == 204
        assert (await client.get(f"/v1/community/logs/{log['id']}", headers=author)).status_code == 404
