"""Archives, statistics, the Excel export and the yearly book (item 10)."""

from __future__ import annotations

import io
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from PIL import Image

YEAR = "2019-2020"


def render(pdf: bytes, folder: Path) -> tuple[str, int]:
    path = folder / "book.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(path), str(folder / "page")], check=True)
    page = Image.open(next(folder.glob("page*.png"))).convert("L")
    return text, sum(page.histogram()[:128])


async def test_the_archive_shows_who_did_what_and_exports_and_compiles(centre: Any, clock: Any, tmp_path: Path) -> None:
    await centre.year()
    batch = await centre.batch(await centre.base("北京小学"))
    zone = await centre.zone("南沙实验区")
    other = await centre.zone("天河实验区", "13700000002")
    await centre.allocate(batch, zone)
    await centre.allocate(batch, other)
    url = f"/v1/batches/{batch}/zones/{zone}"
    contact = centre.contact(zone)
    leader = await centre.ok(
        "POST", f"{url}/trainees", 201, json=centre.trainee_body("=1+1", role="leader"), headers=contact
    )
    member = await centre.ok(
        "POST", f"{url}/trainees", 201, json=centre.trainee_body("李老师", "13900000001"), headers=contact
    )
    await centre.ok("POST", f"{url}/confirmation", headers=contact)
    elsewhere = await centre.ok(
        "POST",
        f"/v1/batches/{batch}/zones/{other}/trainees",
        201,
        json=centre.trainee_body("王老师"),
        headers=centre.contact(other),
    )
    one = centre.trainee(leader["id"], batch, zone)
    await centre.ok("POST", "/v1/me/report", headers=one)
    clock.set(datetime(2019, 9, 17, 2, 0, tzinfo=UTC))
    await centre.ok("POST", f"/v1/batches/{batch}/check-in", headers=one)
    body = {"kind": "insight", "title": "课堂观察", "body_html": "<p>第一段感悟</p><p>第二段收获</p>"}
    reflection = await centre.ok("POST", "/v1/me/reflections", 201, json=body, headers=one)
    await centre.ok("POST", f"/v1/reflections/{reflection['id']}/excellent", json={"excellent": True})
    clock.set(datetime(2019, 10, 8, tzinfo=UTC))
    outcome = {"title": "校本教研改进方案", "summary": "一、背景\n二、做法"}
    await centre.ok("POST", "/v1/me/outcome", 201, json=outcome, headers=one)

    rows = await centre.ok("GET", f"/v1/years/{YEAR}/archive")
    by_id = {r["trainee_id"]: r for r in rows}
    assert set(by_id) == {leader["id"], member["id"], elsewhere["id"]}
    first = by_id[leader["id"]]
    assert (first["reported"], first["checked_in"], first["reflections"], first["excellent_reflections"]) == (
        True, True, 1, 1,
    )  # fmt: skip
    assert first["outcome_uploaded"] and not by_id[member["id"]]["reported"]
    own = await centre.ok("GET", f"/v1/years/{YEAR}/archive", headers=contact)
    assert {r["trainee_id"] for r in own} == {leader["id"], member["id"]}  # never another zone's people
    stats = await centre.ok("GET", f"/v1/years/{YEAR}/statistics", headers=contact)
    assert stats == [
        {"base_name": "北京小学", "stage": "primary", "demand_type": "exchange", "trainees": 2, "reported": 1,
         "checked_in": 1, "reflections": 1, "outcomes": 1, "overdue": 0, "shared": 0}
    ]  # fmt: skip
    assert {r["demand_type"] for r in rows} == {"exchange"}
    assert await centre.ok("GET", f"/v1/years/{YEAR}/archive?demand_type=lodging") == []
    by_teacher = await centre.client.get(f"/v1/years/{YEAR}/archive", headers=centre.trainee(leader["id"], batch, zone))
    assert by_teacher.status_code == 403

    export = await centre.client.get(f"/v1/years/{YEAR}/archive.xlsx", headers=contact)
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None
    cells = {(c.value, c.data_type) for row in sheet.iter_rows(min_row=2) for c in row}
    assert ("=1+1", "s") in cells  # user text stays text, never a formula
    assert ("交换学习", "s") in cells  # 研修学习类型
    assert sheet.max_row == 3

    not_contact = await centre.client.get(f"/v1/years/{YEAR}/book.pdf", headers=contact)
    assert not_contact.status_code == 403
    pdf = await centre.client.get(f"/v1/years/{YEAR}/book.pdf", headers=centre.headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text, dark = render(pdf.content, tmp_path)
    assert dark > 500  # the cover page is really drawn
    assert "优秀心得体会与学习成果汇编" in text and "第二段收获" in text and "学习成果（小学）" in text
    assert "校本教研改进方案" in text and "学习感悟（小学）" in text


class _RecordingFinds:
    """A collection that notes the projection of every ``find`` and passes everything through."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.projections: list[Any] = []

    def find(self, query: Any, projection: Any = None, *args: Any, **kwargs: Any) -> Any:
        self.projections.append(projection)
        return self.inner.find(query, projection, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _fields(projection: Any) -> set[str]:
    assert isinstance(projection, dict) and projection, "a find without a projection reads whole documents"
    return {field for field, keep in projection.items() if keep}


async def test_the_archive_reads_only_the_fields_it_counts(centre: Any, clock: Any, container: Any) -> None:
    """Reflections (10,000 characters each) and outcome reports were loaded whole just to be counted."""
    await centre.year()
    batch = await centre.batch(await centre.base("北京小学"))
    zone = await centre.zone("南沙实验区")
    await centre.allocate(batch, zone)
    url = f"/v1/batches/{batch}/zones/{zone}"
    contact = centre.contact(zone)
    trainee = await centre.ok("POST", f"{url}/trainees", 201, json=centre.trainee_body(), headers=contact)
    await centre.ok("POST", f"{url}/confirmation", headers=contact)
    one = centre.trainee(trainee["id"], batch, zone)
    clock.set(datetime(2019, 9, 17, 2, 0, tzinfo=UTC))
    body = {"kind": "reflection", "title": "长文", "body_html": "<p>" + "字" * 10_000 + "</p>"}
    written = [await centre.ok("POST", "/v1/me/reflections", 201, json=body, headers=one) for _ in range(3)]
    await centre.ok("POST", f"/v1/reflections/{written[1]['id']}/excellent", json={"excellent": True})
    clock.set(datetime(2019, 10, 8, tzinfo=UTC))
    await centre.ok("POST", "/v1/me/outcome", 201, json={"title": "成果", "summary": "做法" * 4000}, headers=one)

    reflections = _RecordingFinds(container.archives.reflections.collection)
    outcomes = _RecordingFinds(container.archives.outcomes.collection)
    container.archives.reflections.collection = reflections
    container.archives.outcomes.collection = outcomes
    for headers in (centre.headers, contact):
        [row] = await centre.ok("GET", f"/v1/years/{YEAR}/archive", headers=headers)
        assert (row["reflections"], row["excellent_reflections"], row["outcome_uploaded"]) == (3, 1, True)
    assert len(reflections.projections) == 2 and len(outcomes.projections) == 2
    assert all(_fields(p) <= {"_id", "trainee_id", "excellent"} for p in reflections.projections)
    assert all(_fields(p) <= {"_id", "trainee_id"} for p in outcomes.projections)
