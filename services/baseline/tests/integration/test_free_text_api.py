"""Free text with control characters (review of issue 15, point 1): refused at the API with a 422, and
text already stored with one (from before the check) still exports to a workbook Excel opens."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from openpyxl import load_workbook

YEAR = "2019-2020"


async def _allocated(centre: Any) -> tuple[str, str, str]:
    await centre.year()
    batch = await centre.batch(await centre.base("北京小学"))
    zone = await centre.zone("南沙实验区")
    await centre.allocate(batch, zone)
    return batch, zone, f"/v1/batches/{batch}/zones/{zone}"


def _refused_field(response: Any) -> str:
    assert response.status_code == 422, response.text
    return str(response.json()["errors"][0]["location"])


async def test_control_and_format_characters_in_free_text_are_refused(centre: Any, clock: Any) -> None:
    batch, zone, url = await _allocated(centre)
    client, contact = centre.client, centre.contact(zone)
    for name in ("张\x01老师", "张\u202e老师", "张\u200b老师", "张老师\n", "张\uffff老师", "张\x7f老师"):
        refused = await client.post(f"{url}/trainees", json=centre.trainee_body(name), headers=contact)
        assert _refused_field(refused) == "body.name", name
    refused = await client.post(f"{url}/trainees", json=centre.trainee_body(employer="南沙\x00一小"), headers=contact)
    assert _refused_field(refused) == "body.employer"
    trainee = await centre.ok("POST", f"{url}/trainees", 201, json=centre.trainee_body(), headers=contact)
    assert [t["name"] for t in (await centre.ok("GET", f"{url}/trainees", headers=contact))["trainees"]] == ["张老师"]

    zone_body = {"name": "天河\x1b实验区", "contact": {"name": "陈老师", "mobile": "13700000009"}}
    assert _refused_field(await client.post("/v1/zones", json=zone_body, headers=centre.headers)) == "body.name"
    bad_contact = {"name": "天河实验区", "contact": {"name": "陈\x08老师", "mobile": "13700000009"}}
    refused = await client.post("/v1/zones", json=bad_contact, headers=centre.headers)
    assert _refused_field(refused) == "body.contact.name"

    await centre.ok("POST", f"{url}/confirmation", headers=contact)
    one = centre.trainee(trainee["id"], batch, zone)
    clock.set(datetime(2019, 9, 17, 2, 0, tzinfo=UTC))
    reflection = {"kind": "reflection", "title": "第一天\x01", "body_html": "<p>听课</p>"}
    assert _refused_field(await client.post("/v1/me/reflections", json=reflection, headers=one)) == "body.title"
    reflection = {**reflection, "title": "第一天", "body_html": "<p>听\x02课</p>"}
    assert _refused_field(await client.post("/v1/me/reflections", json=reflection, headers=one)) == "body.body_html"
    # Text of several lines keeps its tabs and line breaks.
    multi = {**reflection, "body_html": "<p>听课\n\t评课\r\n</p>"}
    assert (await centre.ok("POST", "/v1/me/reflections", 201, json=multi, headers=one))["text_chars"] == len(
        "听课\n\t评课"
    )

    clock.set(datetime(2019, 10, 8, tzinfo=UTC))
    outcome = {"title": "成果", "summary": "一、背景\x0c二、做法"}
    assert _refused_field(await client.post("/v1/me/outcome", json=outcome, headers=one)) == "body.summary"
    await centre.ok("POST", "/v1/me/outcome", 201, json={**outcome, "summary": "一、背景\n二、做法"}, headers=one)


async def test_names_stored_with_control_characters_still_export_to_a_readable_workbook(
    centre: Any, container: Any
) -> None:
    """A name with "\\x01" (stored before the API refused it) made the archive export unreadable."""
    batch, zone, url = await _allocated(centre)
    contact = centre.contact(zone)
    trainee = await centre.ok("POST", f"{url}/trainees", 201, json=centre.trainee_body(), headers=contact)
    path = f"zones.{zone}.trainees.{trainee['id']}"
    await container.infra.db["batches"].update_one(
        {"_id": batch}, {"$set": {f"{path}.name": "张\x01老师", f"{path}.employer": "=南沙\x1f一小\uffff"}}
    )

    export = await centre.client.get(f"/v1/years/{YEAR}/archive.xlsx", headers=contact)
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    row = {label: cell for label, cell in zip(header, sheet[2], strict=True)}
    assert row["姓名"].value == "张老师"
    assert (row["工作单位"].value, row["工作单位"].data_type) == ("=南沙一小", "s")  # text, never a formula
