"""Reflections (item 8): sanitised rich text with checked images, 10,000 characters, author-only edits;
excellent ones marked by the centre (item 10)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from PIL import Image


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


async def _trainees(centre: Any) -> tuple[str, str, dict[str, str], dict[str, str]]:
    await centre.year()
    batch = await centre.batch(await centre.base("北京小学"))
    zone = await centre.zone("南沙实验区")
    await centre.allocate(batch, zone)
    url = f"/v1/batches/{batch}/zones/{zone}"
    contact = centre.contact(zone)
    one = await centre.ok("POST", f"{url}/trainees", 201, json=centre.trainee_body(), headers=contact)
    two = await centre.ok(
        "POST", f"{url}/trainees", 201, json=centre.trainee_body("李老师", "13900000001"), headers=contact
    )
    await centre.ok("POST", f"{url}/confirmation", headers=contact)
    return batch, zone, centre.trainee(one["id"], batch, zone), centre.trainee(two["id"], batch, zone)


async def test_reflections_are_sanitised_bounded_and_their_authors_own(centre: Any, clock: Any) -> None:
    batch, zone, one, two = await _trainees(centre)
    client = centre.client
    body = {"kind": "reflection", "title": "第一天", "body_html": "<p>听课</p>"}
    early = await client.post("/v1/me/reflections", json=body, headers=one)
    assert early.status_code == 409 and early.json()["code"] == "stay_not_started"
    clock.set(datetime(2019, 9, 17, 2, 0, tzinfo=UTC))

    fake = await client.post("/v1/me/reflection-images", content=b"GIF89a not really an image", headers=one)
    assert fake.status_code == 422 and fake.json()["code"] == "image_invalid"
    huge = await client.post("/v1/me/reflection-images", content=b"\x89PNG" + b"0" * (2 * 1024 * 1024), headers=one)
    assert huge.status_code == 413 and huge.json()["code"] == "image_too_large"
    image = await centre.ok("POST", "/v1/me/reflection-images", 201, content=png(), headers=one)
    assert image["content_type"] == "image/png" and (image["width"], image["height"]) == (40, 30)

    html = (
        f'<p onclick="steal()">今天听了<strong>三节课</strong><script>alert(1)</script></p>'
        f'<img src="{image["url"]}" onerror="x()"><img src="https://evil.example/x.png">'
        '<a href="javascript:alert(1)">链接</a>'
    )
    created = await centre.ok("POST", "/v1/me/reflections", 201, json={**body, "body_html": html}, headers=one)
    clean = created["body_html"]
    assert "script" not in clean and "onclick" not in clean and "onerror" not in clean and "javascript" not in clean
    assert f'<img src="{image["url"]}">' in clean and "evil.example" not in clean
    assert "<strong>三节课</strong>" in clean and created["text_chars"] == len("今天听了三节课链接")

    exact = await client.post(
        "/v1/me/reflections", json={**body, "body_html": "<p>" + "字" * 10_000 + "</p>"}, headers=one
    )
    assert exact.status_code == 201 and exact.json()["text_chars"] == 10_000
    too_long = await client.post(
        "/v1/me/reflections", json={**body, "body_html": "<p>" + "字" * 10_001 + "</p>"}, headers=one
    )
    assert too_long.status_code == 422 and too_long.json()["code"] == "reflection_too_long"
    empty = await client.post("/v1/me/reflections", json={**body, "body_html": "<script>x</script>"}, headers=one)
    assert empty.status_code == 422 and empty.json()["code"] == "reflection_empty"

    rid = created["id"]
    by_other = await client.put(f"/v1/me/reflections/{rid}", json=body, headers=two)
    assert by_other.status_code == 404
    assert (await client.delete(f"/v1/me/reflections/{rid}", headers=two)).status_code == 404
    edited = await centre.ok("PUT", f"/v1/me/reflections/{rid}", json={**body, "title": "改"}, headers=one)
    assert edited["title"] == "改" and edited["body_html"] == "<p>听课</p>"
    assert len(await centre.ok("GET", "/v1/me/reflections", headers=one)) == 2
    await centre.ok("DELETE", f"/v1/me/reflections/{exact.json()['id']}", 204, headers=one)

    # The zone contact and the centre read them; the centre marks excellent ones.
    listed = await centre.ok("GET", f"/v1/batches/{batch}/zones/{zone}/reflections", headers=centre.contact(zone))
    assert [r["id"] for r in listed] == [rid]
    not_by_contact = await client.post(f"/v1/reflections/{rid}/excellent", json={}, headers=centre.contact(zone))
    assert not_by_contact.status_code == 403
    marked = await centre.ok("POST", f"/v1/reflections/{rid}/excellent", json={"excellent": True})
    assert marked["excellent"] is True
    own_image = await client.get(image["url"], headers=one)
    assert own_image.status_code == 200 and own_image.headers["content-type"] == "image/png"
    foreign = await client.get(image["url"], headers=centre.contact("abc123"))
    assert foreign.status_code == 404
