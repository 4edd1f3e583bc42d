"""The community's HTTP API: upload by multipart, ratings, topics, problem+json for bad input, 404 out of scope."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from community_support import PDF, approved_workshop, community

from jijiao_stack import samples
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


async def test_uploads_are_held_to_the_limit_of_their_kind_not_the_default_body_limit(
    settings_env: dict[str, Any], tmp_path: Path, make_token: Any
) -> None:
    """Documents up to 20 MB, videos up to 200 MB: the route's own body limit lets both through the kit's
    guard (12 MiB by default), and the file is read bounded by the limit of the kind its name claims."""
    c = await community(settings_env, tmp_path)
    owner = bearer(make_token("teacher", ce_number="2000"))
    video = samples.mp4("v" * (13 * 1024 * 1024))  # a real MP4 whose mdat makes it 13 MB
    document = PDF + b"\0" * (21 * 1024 * 1024)  # over 20 MB: refused before its content is parsed
    async with api_client(create_app(c)) as client:
        big = await client.post(
            "/v1/community/resources",
            data={"title": "大文档"},
            files={"file": ("big.pdf", document, "application/pdf")},
            headers=owner,
        )
        assert big.status_code == 413 and big.headers["content-type"].startswith("application/problem+json")
        assert (big.json()["code"], big.json()["title"]) == ("upload_too_large", "文件过大")
        shared = await client.post(
            "/v1/community/resources",
            data={"title": "课堂实录"},
            files={"file": ("lesson.mp4", video, "video/mp4")},
            headers=owner,
        )
        assert shared.status_code == 201, shared.text[:300]
        assert (shared.json()["kind"], shared.json()["size"]) == ("video", len(video))
        file = await client.get(f"/v1/community/resources/{shared.json()['id']}/file", headers=owner)
        assert file.content == video
        assert await c.infra.db["resources"].count_documents({}) == 1


async def test_community_writes_are_rate_limited_per_teacher(
    settings_env: dict[str, Any], tmp_path: Path, make_token: Any
) -> None:
    one = "1/hour"
    rates = {f"community_{w}_rate": one for w in ("upload", "topic", "post", "rating", "join")}
    c = await community(settings_env, tmp_path, **rates)
    wid = await approved_workshop(c)
    owner = bearer(make_token("teacher", ce_number="2000"))
    rater = bearer(make_token("teacher", ce_number="3000"))
    other = bearer(make_token("teacher", ce_number="3001"))

    def refused(answer: Any) -> None:
        assert answer.status_code == 429, answer.text
        assert answer.json()["code"] == "rate_limited" and int(answer.headers["Retry-After"]) >= 1

    async with api_client(create_app(c)) as client:
        files = [{"file": (f"{n}.pdf", samples.pdf(f"{n}"), "application/pdf")} for n in range(2)]
        first = await client.post("/v1/community/resources", data={"title": "一"}, files=files[0], headers=owner)
        assert first.status_code == 201
        refused(await client.post("/v1/community/resources", data={"title": "二"}, files=files[1], headers=owner))
        rid = first.json()["id"]
        assert (
            await client.put(f"/v1/community/resources/{rid}/ratings/me", json={"stars": 4}, headers=rater)
        ).is_success
        refused(await client.put(f"/v1/community/resources/{rid}/ratings/me", json={"stars": 5}, headers=rater))
        assert (
            await client.put(f"/v1/community/resources/{rid}/ratings/me", json={"stars": 5}, headers=other)
        ).is_success
        topic = await client.post("/v1/community/topics", json={"title": "话题"}, headers=owner)
        assert topic.status_code == 201
        refused(await client.post("/v1/community/topics", json={"title": "话题二"}, headers=owner))
        tid = topic.json()["id"]
        assert (await client.post(f"/v1/community/topics/{tid}/posts", json={"body": "回复"}, headers=rater)).is_success
        refused(await client.post(f"/v1/community/topics/{tid}/posts", json={"body": "再回复"}, headers=rater))
        assert (await client.post(f"/v1/community/workshops/{wid}/participants/me", headers=rater)).is_success
        assert (await client.delete(f"/v1/community/workshops/{wid}/participants/me", headers=rater)).is_success
        refused(await client.post(f"/v1/community/workshops/{wid}/participants/me", headers=rater))
        assert await c.infra.db["resources"].count_documents({}) == 1
        assert await c.infra.db["topics"].count_documents({}) == 1
