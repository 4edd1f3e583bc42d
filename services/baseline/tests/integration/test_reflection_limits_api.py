"""Reflections after review of issue 15 (point 3): the excellent mark follows the text the centre read,
reflections and images per trainee are capped by the store also under parallel requests, and a
reflection embeds only its author's images."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from typing import Any

from PIL import Image

from baseline.adapters.mongo import WRITINGS
from jijiao_kit.timeutil import epoch_ms

BODY = {"kind": "reflection", "title": "第一天", "body_html": "<p>听课</p>"}


def png(shade: int = 30) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, shade, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


async def _trainees(centre: Any, clock: Any) -> tuple[list[str], list[dict[str, str]]]:
    """Two confirmed trainees of one zone, the stay begun: their ids and headers."""
    await centre.year()
    batch = await centre.batch(await centre.base("北京小学"))
    zone = await centre.zone("南沙实验区")
    await centre.allocate(batch, zone)
    url, contact = f"/v1/batches/{batch}/zones/{zone}", centre.contact(zone)
    one = await centre.ok("POST", f"{url}/trainees", 201, json=centre.trainee_body(), headers=contact)
    two = await centre.ok(
        "POST", f"{url}/trainees", 201, json=centre.trainee_body("李老师", "13900000001"), headers=contact
    )
    await centre.ok("POST", f"{url}/confirmation", headers=contact)
    clock.set(datetime(2019, 9, 17, 2, 0, tzinfo=UTC))
    ids = [one["id"], two["id"]]
    return ids, [centre.trainee(tid, batch, zone) for tid in ids]


async def test_an_edit_clears_the_excellent_mark_and_a_marked_reflection_is_not_deleted(
    centre: Any, clock: Any
) -> None:
    _, (one, two) = await _trainees(centre, clock)
    client = centre.client
    rid = (await centre.ok("POST", "/v1/me/reflections", 201, json=BODY, headers=one))["id"]
    await centre.ok("POST", f"/v1/reflections/{rid}/excellent", json={"excellent": True})

    edited = await centre.ok("PUT", f"/v1/me/reflections/{rid}", json={**BODY, "title": "改过"}, headers=one)
    assert edited["excellent"] is False  # the centre marked another text
    excellent = await centre.ok("GET", "/v1/years/2019-2020/archive")
    assert [row["excellent_reflections"] for row in excellent if row["reflections"]] == [0]

    await centre.ok("POST", f"/v1/reflections/{rid}/excellent", json={"excellent": True})
    refused = await client.delete(f"/v1/me/reflections/{rid}", headers=one)
    assert refused.status_code == 409 and refused.json()["code"] == "reflection_excellent"
    assert refused.json()["title"] == "该心得已被评为优秀，不能删除（如需删除请联系中心取消优秀）"
    assert [r["id"] for r in await centre.ok("GET", "/v1/me/reflections", headers=one)] == [rid]
    by_other = await client.delete(f"/v1/me/reflections/{rid}", headers=two)
    assert by_other.status_code == 404  # never tells another trainee that it exists

    await centre.ok("POST", f"/v1/reflections/{rid}/excellent", json={"excellent": False})
    await centre.ok("DELETE", f"/v1/me/reflections/{rid}", 204, headers=one)
    assert await centre.ok("GET", "/v1/me/reflections", headers=one) == []


async def test_reflections_and_images_per_trainee_are_capped_under_parallel_requests(
    centre: Any, clock: Any, container: Any
) -> None:
    (first, _), (one, two) = await _trainees(centre, clock)
    client = centre.client
    answers = await asyncio.gather(*(client.post("/v1/me/reflections", json=BODY, headers=one) for _ in range(60)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 50 + [409] * 10
    refused = next(a for a in answers if a.status_code == 409).json()
    assert refused["code"] == "reflection_limit" and refused["title"] == "每位研修人员最多提交50篇心得"
    db = container.infra.db
    assert await db["reflections"].count_documents({"trainee_id": first}) == 50
    assert (await centre.ok("POST", "/v1/me/reflections", 201, json=BODY, headers=two))["trainee_id"] != first

    # Deleting one frees its place, once: two parallel deletes of it and three parallel writes give one more.
    rid = next(a for a in answers if a.status_code == 201).json()["id"]
    deletes = await asyncio.gather(*(client.delete(f"/v1/me/reflections/{rid}", headers=one) for _ in range(2)))
    assert sorted(d.status_code for d in deletes) == [204, 404]
    again = await asyncio.gather(*(client.post("/v1/me/reflections", json=BODY, headers=one) for _ in range(3)))
    assert sorted(a.status_code for a in again) == [201, 409, 409]
    assert await db["reflections"].count_documents({"trainee_id": first}) == 50

    uploads = await asyncio.gather(
        *(client.post("/v1/me/reflection-images", content=png(), headers=one) for _ in range(110))
    )
    assert sorted(u.status_code for u in uploads) == [201] * 100 + [409] * 10
    assert {u.json()["code"] for u in uploads if u.status_code == 409} == {"image_limit"}
    assert await db["reflection_images"].count_documents({"trainee_id": first}) == 100
    counters = await db[WRITINGS].find_one({"_id": first})
    assert counters is not None and (counters["reflections"], counters["images"]) == (50, 100)


async def test_places_taken_by_requests_that_died_come_back_after_a_grace(
    centre: Any, clock: Any, container: Any
) -> None:
    """A request that took a place and died before writing its reflection left the count one higher: at
    the cap, places older than a minute without their reflection are given back (each once)."""
    (first, _), (one, _) = await _trainees(centre, clock)
    now_ms = epoch_ms(clock.now())
    writings = container.infra.db[WRITINGS]
    dead = {f"dead{n:08d}": now_ms - 61_000 for n in range(3)}
    young = {f"busy{n:08d}": now_ms - 1_000 for n in range(47)}  # requests still writing
    await writings.insert_one({"_id": first, "reflections": 50, "images": 0, "reflection_ids": {**dead, **young}})
    answers = await asyncio.gather(
        *(centre.client.post("/v1/me/reflections", json=BODY, headers=one) for _ in range(5))
    )
    assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 2
    counters = await writings.find_one({"_id": first}) or {}
    assert counters["reflections"] == 50 and not set(dead) & set(counters["reflection_ids"])
    assert set(young) <= set(counters["reflection_ids"])


async def test_a_reflection_embeds_only_its_authors_images(centre: Any, clock: Any) -> None:
    _, (one, two) = await _trainees(centre, clock)
    mine = await centre.ok("POST", "/v1/me/reflection-images", 201, content=png(10), headers=one)
    theirs = await centre.ok("POST", "/v1/me/reflection-images", 201, content=png(90), headers=two)
    html = f'<p>两张图</p><img src="{mine["url"]}"><img src="{theirs["url"]}" alt="别人的">'
    written = await centre.ok("POST", "/v1/me/reflections", 201, json={**BODY, "body_html": html}, headers=one)
    assert f'<img src="{mine["url"]}">' in written["body_html"]
    assert theirs["id"] not in written["body_html"] and written["body_html"].count("<img") == 2

    edit = {**BODY, "body_html": f'<p>改</p><img src="{theirs["url"]}">'}
    edited = await centre.ok("PUT", f"/v1/me/reflections/{written['id']}", json=edit, headers=one)
    assert theirs["id"] not in edited["body_html"]
    own = await centre.ok("POST", "/v1/me/reflections", 201, json=edit, headers=two)
    assert f'<img src="{theirs["url"]}">' in own["body_html"]
