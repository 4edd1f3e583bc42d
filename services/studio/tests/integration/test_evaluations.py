"""Member evaluation on the real store: the 30 % limit under parallel edits, two years, 1/7 absence
from check-ins, editable until the cycle ends, the certificate rendered as an image."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from studio_support import World, at_round, teacher, world

from jijiao_kit.errors import AppError
from jijiao_kit.timeutil import epoch_ms
from studio.adapters.mongo import EVALUATIONS
from studio.domain.evaluation import Grade
from studio.domain.recruitment import Decision

HOST = teacher("9001")


async def members(w: World, n: int) -> str:
    sid = await w.studio("9001")
    ids = [await w.apply(f"1{k:03d}", [sid]) for k in range(n)]
    w.clock.set(at_round(1))
    for i in ids:
        await w.container.recruitment.decide(HOST, sid, i, Decision.ADMITTED)
    return str(sid)


def render(pdf: bytes, workdir: Path) -> tuple[str, int]:
    path = workdir / f"c-{uuid.uuid4().hex[:6]}.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    stem = workdir / "page"
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(stem)], check=True)
    image = Image.open(next(workdir.glob("page*.png"))).convert("L")
    return text, sum(image.histogram()[:128])


async def test_excellent_stays_within_30_percent_under_parallel_edits(settings_env: dict[str, Any]) -> None:
    w = await world(settings_env)
    sid = await members(w, 10)  # 30 % of 10: three
    svc = w.container.evaluations
    results = await asyncio.gather(
        *(svc.evaluate(HOST, sid, "cycle", f"1{k:03d}", Grade.EXCELLENT, "优秀") for k in range(10)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, dict) for r in results) == 3
    assert {r.code for r in results if isinstance(r, AppError)} == {"excellent_quota"}
    sheet = await svc.sheet(HOST, sid, "cycle")
    assert sum(1 for row in sheet if row["grade"] == "excellent") == 3
    # lowering one frees its seat for another member
    first = next(row["ce_number"] for row in sheet if row["grade"] == "excellent")
    other = next(row["ce_number"] for row in sheet if row["grade"] is None)
    await svc.evaluate(HOST, sid, "cycle", first, Grade.GOOD, "良好")
    await svc.evaluate(HOST, sid, "cycle", other, Grade.EXCELLENT, "优秀")
    assert sum(1 for row in await svc.sheet(HOST, sid, "cycle") if row["grade"] == "excellent") == 3
    doc = await w.container.infra.db[EVALUATIONS].find_one({"_id": f"{sid}:cycle:{other}"})
    assert doc is not None
    events = [json.loads(e["body"]) for e in doc["outbox"].values()]
    assert [e["payload"]["grade"] for e in events] == ["excellent"] and events[0]["type"] == "studio.member_evaluated"


async def test_two_years_and_one_seventh_absence(settings_env: dict[str, Any]) -> None:
    w = await world(settings_env)
    sid = await members(w, 4)
    svc = w.container.evaluations
    with pytest.raises(AppError) as new:
        await svc.evaluate(HOST, sid, "2026", "1000", Grade.EXCELLENT, "")
    assert new.value.code == "too_new_for_excellent"
    acts = w.container.activities
    stage = await acts.add_stage(HOST, sid, "阶段", None)
    start = w.clock.now() + timedelta(days=1)
    ids = []
    for _ in range(7):
        body = {
            "stage_id": stage["_id"],
            "mode": "offline",
            "type": "offline_research",
            "title": "研修",
            "place": "一小",
            "hours": 2.0,
            "starts_ms": epoch_ms(start),
            "ends_ms": epoch_ms(start + timedelta(hours=2)),
            "options": {"checkin": {"required": True}},
        }
        act = await acts.create(HOST, sid, body)
        await acts.publish(HOST, sid, act["_id"])
        ids.append(act["_id"])
    for aid in ids:
        token = (await acts.checkin_token(HOST, sid, aid))["token"]
        await acts.check_in(teacher("1000"), sid, aid, token)  # present at all seven
        if aid != ids[0]:
            await acts.check_in(teacher("1001"), sid, aid, token)  # missed one of seven: 1/7
    w.clock.set(start + timedelta(days=1))
    rows = {r["ce_number"]: r for r in await svc.sheet(HOST, sid, "2026")}
    assert (rows["1000"]["required_offline"], rows["1000"]["attended_offline"]) == (7, 7)
    assert rows["1001"]["must_be_unqualified"] is True and rows["1000"]["must_be_unqualified"] is False
    with pytest.raises(AppError) as absent:
        await svc.evaluate(HOST, sid, "2026", "1001", Grade.QUALIFIED, "")
    assert absent.value.code == "absent_unqualified"
    assert (await svc.evaluate(HOST, sid, "2026", "1001", Grade.UNQUALIFIED, "缺勤"))["grade"] == "unqualified"
    own = await svc.sheet(teacher("1001"), sid, "2026")
    assert [r["ce_number"] for r in own] == ["1001"]  # a member sees their own result only


async def test_certificate_after_the_cycle_ends(settings_env: dict[str, Any], tmp_path: Path) -> None:
    w = await world(settings_env)
    sid = await members(w, 4)
    svc = w.container.evaluations
    await svc.evaluate(HOST, sid, "cycle", "1000", Grade.EXCELLENT, "优秀")
    await svc.evaluate(HOST, sid, "cycle", "1001", Grade.GOOD, "良好")
    with pytest.raises(AppError) as early:
        await svc.certificate(teacher("1000"), sid, "1000")
    assert early.value.code == "certificate_unavailable"
    w.clock.set(datetime(2029, 1, 2, tzinfo=UTC))
    with pytest.raises(AppError) as closed:
        await svc.evaluate(HOST, sid, "cycle", "1001", Grade.QUALIFIED, "")
    assert closed.value.code == "evaluation_closed"
    with pytest.raises(AppError) as not_excellent:
        await svc.certificate(teacher("1001"), sid, "1001")
    assert not_excellent.value.code == "certificate_unavailable"
    with pytest.raises(AppError) as someone_else:
        await svc.certificate(teacher("1001"), sid, "1000")
    assert someone_else.value.code == "evaluation_not_found"
    pdf = await svc.certificate(teacher("1000"), sid, "1000")
    text, dark = render(pdf, tmp_path)
    assert "荣" in text and "优秀" in text and "9001工作室" in text
    assert dark > 500  # the page is really drawn (glyphs, not an empty page)
