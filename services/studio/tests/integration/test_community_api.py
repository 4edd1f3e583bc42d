"""The community's HTTP API: upload by multipart, ratings, topics, problem+json for bad input, 404 out of scope."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from community_support import PDF, community

from jijiao_stack.pytest_plugin import api_client, bearer
from studio.entrypoints.api.app import create_app


async def test_share_rate_discuss_over_http(settings_env: dict[str, Any], tmp_path: Path, make_token: Any) -> None:
    c = await community(settings_env, tmp_path)
    owner = bearer(make_token("teacher", ce_number="2000"))
    rater = bearer(make_token("teacher", ce_number="3000"))
    centre = bearer(make_token("remote_centre"))
    async with api_client(create_app(c)) as client:
        shared = await client.post(
            "/v1/community/resources",
            data={"title": "课件", "description": "<a href='javascript:x()'>看</a>"},
            files={"file": ("slides.pdf", PDF, "application/pdf")},
            headers=owner,
        )
        assert shared.status_code == 201, shared.text
        rid = shared.json()["id"]
        assert "javascript" not in shared.json()["description"] and shared.json()["earns"] is True
        wrong = await client.post(
            "/v1/community/resources",
            data={"title": "伪装"},
            files={"file": ("evil.pdf", b"<script>alert(1)</script>", "application/pdf")},
            headers=owner,
        )
        assert wrong.status_code == 415 and wrong.headers["content-type"].startswith("application/problem+json")
        assert wrong.json()["code"] == "upload_type"
        rated = await client.put(f"/v1/community/resources/{rid}/ratings/me", json={"stars": 4}, headers=rater)
        assert rated.status_code == 200 and rated.json()["average_stars"] == 4 and rated.json()["my_rating"] == 4
        bad = await client.put(f"/v1/community/resources/{rid}/ratings/me", json={"stars": 9}, headers=rater)
        assert bad.status_code == 422
        own = await client.put(f"/v1/community/resources/{rid}/ratings/me", json={"stars": 5}, headers=owner)
        assert own.status_code == 409 and own.json()["code"] == "own_resource"
        file = await client.get(f"/v1/community/resources/{rid}/file", headers=rater)
        assert file.content == PDF and file.headers["content-type"] == "application/pdf"

        applied = await client.post("/v1/community/workshops", json={"name": "研修坊"}, headers=owner)
        wid = applied.json()["id"]
        assert (await client.get(f"/v1/community/workshops/{wid}", headers=rater)).status_code == 404
        refused = await client.post(f"/v1/community/workshops/{wid}/decision", json={"approve": True}, headers=rater)
        assert refused.status_code == 404  # a teacher does not learn that a pending workshop exists
        approved = await client.post(f"/v1/community/workshops/{wid}/decision", json={"approve": True}, headers=centre)
        assert approved.status_code == 200 and approved.json()["status"] == "approved"
        joined = await client.post(f"/v1/community/workshops/{wid}/participants/me", headers=rater)
        assert joined.json()["joined"] is True and joined.json()["participant_count"] == 2

        topic = await client.post("/v1/community/topics", json={"title": "话题", "body": "<p>正文</p>"}, headers=owner)
        tid = topic.json()["id"]
        reply = await client.post(f"/v1/community/topics/{tid}/posts", json={"body": "回复"}, headers=rater)
        assert reply.status_code == 201
        shown = await client.get(f"/v1/community/topics/{tid}", headers=owner)
        assert shown.json()["replier_count"] == 1 and [p["body"] for p in shown.json()["posts"]] == ["回复"]
        admin = bearer(make_token("school_admin", school_id="s1"))
        assert (await client.get("/v1/community/topics", headers=admin)).status_code == 403
