"""Uploads, posts with review, funds with evidence, indicators and the yearly task view (HTTP, real store)."""

from __future__ import annotations

from typing import Any

from studio_support import World, at_round, teacher, world

from jijiao_stack import samples
from jijiao_stack.pytest_plugin import api_client, bearer
from studio.adapters.content import FileRepository
from studio.domain.bulletins import BulletinKind
from studio.domain.recruitment import Decision
from studio.entrypoints.api.app import create_app

HOST = teacher("9001")
PDF = samples.pdf()


async def studio_with(w: World, n: int) -> str:
    sid = await w.studio("9001")
    ids = [await w.apply(f"1{k:03d}", [sid]) for k in range(n)]
    w.clock.set(at_round(1))
    for i in ids:
        await w.container.recruitment.decide(HOST, sid, i, Decision.ADMITTED)
    return str(sid)


async def test_uploads_are_checked_by_content_and_size(settings_env: dict[str, Any], make_token: Any) -> None:
    w = await world(settings_env)
    sid = await studio_with(w, 1)
    member = bearer(make_token("teacher", ce_number="1000"))
    async with api_client(create_app(w.container)) as client:
        url = f"/v1/studios/{sid}/files"
        good = await client.post(url, params={"name": "教案.docx"}, content=samples.docx(), headers=member)
        pdf = await client.post(url, params={"name": "论文.pdf"}, content=PDF, headers=member)
        renamed = await client.post(
            url, params={"name": "evil.pdf"}, content=b"MZ\x90\x00 this is an exe", headers=member
        )
        wrong_ext = await client.post(url, params={"name": "a.exe"}, content=PDF, headers=member)
        pdf_as_docx = await client.post(url, params={"name": "a.docx"}, content=PDF, headers=member)
        big = await client.post(url, params={"name": "big.pdf"}, content=PDF + b"0" * 300_000, headers=member)
        stranger = await client.post(
            url, params={"name": "a.pdf"}, content=PDF, headers=bearer(make_token("teacher", ce_number="7"))
        )
        fetched = await client.get(f"{url}/{pdf.json().get('id')}", headers=member)
        stored = await FileRepository(w.container.infra.db).count({"studio_id": sid})
    assert good.status_code == 201 and good.json()["ext"] == "docx", good.text
    assert pdf.status_code == 201, pdf.text
    assert pdf.status_code == 201 and fetched.content == PDF
    assert renamed.status_code == 415 and renamed.json()["code"] == "upload_type"
    assert wrong_ext.status_code == 415 and pdf_as_docx.status_code == 415
    assert big.status_code == 413 and big.json()["code"] == "upload_too_large"
    assert stranger.status_code == 404
    assert stored == 2  # refused uploads left no trace


async def test_posts_are_reviewed_featured_pinned_and_deleted(settings_env: dict[str, Any]) -> None:
    w = await world(settings_env)
    sid = await studio_with(w, 2)
    svc = w.container.content
    mine = await svc.post(
        teacher("1000"), sid, kind_("achievement"), "调研报告", "<b>建议</b><img src=x onerror=alert(1)>", []
    )
    assert mine["status"] == "pending" and "onerror" not in mine["body"]
    assert [p["_id"] for p in await svc.list_posts(teacher("1001"), sid, None)] == []  # not approved yet
    assert [p["_id"] for p in await svc.list_posts(teacher("1000"), sid, None)] == [mine["_id"]]  # own
    await svc.review(HOST, sid, mine["_id"], {"status": "approved", "featured": True})
    hosts = await svc.post(HOST, sid, kind_("article"), "主持人文章", "x", [])
    await svc.review(HOST, sid, mine["_id"], {"pinned": True})
    listed = await svc.list_posts(teacher("1001"), sid, None)
    assert [p["_id"] for p in listed] == [mine["_id"], hosts["_id"]] and listed[0]["featured"] is True
    await svc.delete_post(HOST, sid, mine["_id"])
    assert [p["_id"] for p in await svc.list_posts(teacher("1001"), sid, None)] == [hosts["_id"]]


def kind_(value: str) -> Any:
    from studio.domain.content import PostKind

    return PostKind(value)


async def test_funds_indicators_and_the_yearly_task_view(settings_env: dict[str, Any], make_token: Any) -> None:
    w = await world(settings_env)
    sid = await studio_with(w, 1)
    svc = w.container.content
    before = await svc.tasks(HOST, sid, 2026)
    assert before["unfinished"] == 5 and not any(t["done"] for t in before["tasks"])
    await svc.set_funds(HOST, sid, 2026, "budget", [{"item": "专家讲座", "amount": 3000}], [])
    scan = await svc.upload(HOST, sid, "发票.pdf", PDF, "evidence")
    report = await svc.set_funds(HOST, sid, 2026, "report", [{"item": "专家讲座", "amount": 2800}], [scan["_id"]])
    assert report["budget"]["total"] == 3000 and report["report"]["files"][0]["id"] == scan["_id"]
    await w.container.bulletins.create(HOST, sid, BulletinKind.ANNUAL_PLAN, "2026年计划", "x", 2026, True)
    rows = (await svc.tasks(HOST, sid, 2026))["tasks"]
    assert {t["check"]: t["evidence"] for t in rows}["funds_reported"] == f"/v1/studios/{sid}/funds/2026"
    after = {t["check"]: t["done"] for t in rows}
    assert after == {
        "annual_plan": True,
        "activities_organised": False,
        "evaluations_done": False,
        "budget_planned": True,
        "funds_reported": True,
    }
    bench = await w.container.studios.listing(HOST, hosted_by_me=True)
    assert bench[0]["counts"]["unfinished_yearly_tasks"] == 2
    city = bearer(make_token("city_admin"))
    async with api_client(create_app(w.container)) as client:
        no_evidence = await client.put(
            f"/v1/studios/{sid}/funds/2027/report",
            json={"items": [{"item": "a", "amount": 1}]},
            headers=bearer(make_token("teacher", ce_number="9001")),
        )
        added = await client.post(
            "/v1/indicators", json={"name": "成果", "score": 20, "check": "evaluations_done"}, headers=city
        )
        by_teacher = await client.post(
            "/v1/indicators", json={"name": "x", "score": 1}, headers=bearer(make_token("teacher", ce_number="9001"))
        )
        listed = await client.get("/v1/indicators", headers=city)
    assert no_evidence.status_code == 422 and no_evidence.json()["code"] == "invalid_funds"
    assert added.status_code == 201 and by_teacher.status_code == 403
    assert len(listed.json()) == 6  # the five defaults became data, plus the new one
