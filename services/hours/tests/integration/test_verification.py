"""Annual verification through the API (carry-over across years), the printable PDF (rendered and
checked not blank), the per-school .xlsx with step-up, runs that emit only changes, cycles, complaints,
and rules as data."""

from __future__ import annotations

import asyncio
import io
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from openpyxl import load_workbook

from hours.bootstrap import Container
from hours.entrypoints.api.app import create_app
from jijiao_kit.auth import load_or_create_keypair
from jijiao_kit.clock import MovableClock
from jijiao_kit.stepup import STEP_UP_HEADER, StepUpSigner
from jijiao_stack.pytest_plugin import api_client, bearer


async def credit(
    client: httpx.AsyncClient, token: str, ce: str, year: int, source: str, category: str, hours: float, ref: str
) -> None:
    body = {"ce_number": ce, "year": year, "source": source, "category": category, "hours": hours, "reference": ref}
    response = await client.post("/v1/hour-registrations", json=body, headers=bearer(token))
    assert response.status_code == 201, response.text


async def full_year(client: httpx.AsyncClient, city: str, ce: str, year: int, professional: float) -> None:
    await credit(client, city, ce, year, "platform_course", "public", 24, f"{ce}-{year}-pub")
    await credit(client, city, ce, year, "platform_course", "professional", professional, f"{ce}-{year}-pro")
    await credit(client, city, ce, year, "platform_course", "elective", 6, f"{ce}-{year}-ele")


async def test_carry_over_across_three_years_through_the_api(client: httpx.AsyncClient, make_token: Any) -> None:
    city = make_token("city_admin", subject="city")
    await full_year(client, city, "2026000001", 2024, 60)  # carries 18
    await full_year(client, city, "2026000001", 2025, 30)  # 18 + 30 = 48 passes, carries 6 own hours
    await full_year(client, city, "2026000001", 2026, 42)  # 6 + 42, carries 6
    teacher = bearer(make_token("teacher", ce_number="2026000001"))
    v2025 = (await client.get("/v1/teachers/2026000001/years/2025/verification", headers=teacher)).json()
    assert (v2025["carried_in"], v2025["professional"], v2025["passed"], v2025["carried_out"]) == (18, 48, True, 6)
    hours = (await client.get("/v1/teachers/2026000001/years/2026/hours", headers=teacher)).json()
    assert (hours["carried_in"], hours["professional"], hours["total"]) == (6, 48, 78)
    v2026 = (await client.get("/v1/teachers/2026000001/years/2026/verification", headers=teacher)).json()
    assert v2026["carried_out"] == 6 and v2026["requirement"]["total"] == 72
    again = (await client.get("/v1/teachers/2026000001/years/2026/verification", headers=teacher)).json()
    assert again == v2026
    short = (await client.get("/v1/teachers/2026000002/years/2026/verification", headers=bearer(city))).json()
    assert short["passed"] is False and short["shortfall"]["total"] == 72


def dark_pixels_of_first_page(pdf_bytes: bytes, folder: Path) -> int:
    """Render page 1 with pdftoppm and count dark pixels (a blank page has none)."""
    from PIL import Image  # reportlab depends on pillow

    pdf = folder / "report.pdf"
    pdf.write_bytes(pdf_bytes)
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(folder / "page")], check=True)
    (png,) = folder.glob("page*.png")
    return sum(Image.open(png).convert("L").histogram()[:128])


async def test_printable_report_renders_a_non_blank_page(
    client: httpx.AsyncClient, make_token: Any, tmp_path: Path
) -> None:
    city = make_token("city_admin", subject="city")
    await full_year(client, city, "2026000001", 2026, 50)
    response = await client.get(
        "/v1/teachers/2026000001/years/2026/verification.pdf",
        headers=bearer(make_token("teacher", ce_number="2026000001")),
    )
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    dark = await asyncio.to_thread(dark_pixels_of_first_page, response.content, tmp_path)
    assert dark > 500, "the rendered page is blank"
    assert b"STSong-Light" in response.content


async def test_run_emits_only_changes_and_school_export_needs_step_up(
    container: Container, client: httpx.AsyncClient, make_token: Any, settings_env: dict[str, Any], tmp_path: Path
) -> None:
    city = make_token("city_admin", subject="city")
    await full_year(client, city, "2026000001", 2026, 50)
    run = (await client.post("/v1/verifications/2026/run", headers=bearer(city))).json()
    assert (run["teachers"], run["passed"], run["changed"]) == (4, 1, 4)
    assert (await client.post("/v1/verifications/2026/run", headers=bearer(city))).json()["changed"] == 0
    await credit(client, city, "2026000002", 2026, "platform_course", "public", 3, "x")
    school_run = (
        await client.post("/v1/verifications/2026/run", headers=bearer(make_token("school_admin", school_id="s1")))
    ).json()
    assert (school_run["teachers"], school_run["changed"]) == (2, 1)
    snapshots = container.infra.db["verifications"]
    assert await snapshots.count_documents({"year": 2026}) == 4
    pending = [doc["outbox_pending"] async for doc in snapshots.find({})]
    assert sum(pending) == 5  # one VerificationCompleted per changed result, none for unchanged reruns

    strict = create_app(container)
    strict.state.step_up_required = True  # production setting: exports need notify's step-up token
    school_admin_subject = "school:s1"
    token = make_token("school_admin", school_id="s1", subject=school_admin_subject)
    async with api_client(strict) as secure:
        denied = await secure.get("/v1/schools/s1/verifications/2026.xlsx", headers=bearer(token))
        assert denied.status_code == 403 and denied.json()["code"] == "step_up_required"
        signer = StepUpSigner(load_or_create_keypair(Path(settings_env["keys_dir"]), "stepup").private_pem)
        step_up = signer.sign(school_admin_subject, "export")
        ok = await secure.get(
            "/v1/schools/s1/verifications/2026.xlsx", headers={**bearer(token), STEP_UP_HEADER: step_up}
        )
        assert ok.status_code == 200, ok.text
        other = await secure.get(
            "/v1/schools/s2/verifications/2026.xlsx", headers={**bearer(token), STEP_UP_HEADER: step_up}
        )
        assert other.status_code == 403
    sheet = load_workbook(io.BytesIO(ok.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("继续教育学号", "姓名", "学校", "年度")
    assert {row[0]: row[-1] for row in rows[1:]} == {"2026000001": "通过", "2026000002": "未通过"}


async def test_cycle_verification_is_configurable_and_exportable(client: httpx.AsyncClient, make_token: Any) -> None:
    city = make_token("city_admin", subject="city")
    await full_year(client, city, "2026000001", 2024, 50)
    await full_year(client, city, "2026000001", 2025, 42)
    assert (
        await client.put(
            "/v1/cycles/c2024",
            json={"name": "2024-2026周期", "start_year": 2024, "end_year": 2026},
            headers=bearer(make_token("district_admin", district="天河区")),
        )
    ).status_code == 403
    put = await client.put(
        "/v1/cycles/c2024", json={"name": "2024-2026周期", "start_year": 2024, "end_year": 2026}, headers=bearer(city)
    )
    assert put.status_code == 200
    result = (
        await client.get("/v1/cycles/c2024/verification", headers=bearer(make_token("school_admin", school_id="s1")))
    ).json()
    mine = [r for r in result["rows"] if r["ce_number"] == "2026000001"]
    assert [(r["year"], r["total"], r["professional"]) for r in mine] == [(2024, 80, 50), (2025, 80, 50), (2026, 8, 8)]
    assert {t["ce_number"] for t in result["teachers"]} == {"2026000001", "2026000002"}
    total = next(t for t in result["teachers"] if t["ce_number"] == "2026000001")
    assert total["total"] == 168
    export = await client.get("/v1/cycles/c2024/verification.xlsx", headers=bearer(city))
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None and next(sheet.iter_rows(values_only=True))[0] == "继续教育学号"
    assert (await client.get("/v1/cycles/none/verification", headers=bearer(city))).status_code == 404


async def test_years_from_2000_verify_with_a_lookback_that_stops_at_2000(
    client: httpx.AsyncClient, make_token: Any
) -> None:
    """A chain looks ten years back but not before 2000, the first year with rules: verifying any year of
    2000-2009 (a teacher's, a run, a school export, a cycle) was a 500 asking for the rules of 1990-1999."""
    city = make_token("city_admin", subject="city")
    await full_year(client, city, "2026000001", 2003, 60)  # carries 18 into 2004
    v2004 = await client.get("/v1/teachers/2026000001/years/2004/verification", headers=bearer(city))
    assert v2004.status_code == 200, v2004.text
    assert (v2004.json()["carried_in"], v2004.json()["passed"]) == (18, False)
    run = await client.post("/v1/verifications/2001/run", headers=bearer(city))
    assert run.status_code == 200 and run.json()["teachers"] == 4, run.text
    export = await client.get("/v1/schools/s1/verifications/2000.xlsx", headers=bearer(city))
    assert export.status_code == 200, export.text
    cycle = {"name": "2000-2004周期", "start_year": 2000, "end_year": 2004}
    assert (await client.put("/v1/cycles/c2000", json=cycle, headers=bearer(city))).status_code == 200
    result = await client.get("/v1/cycles/c2000/verification", headers=bearer(city))
    assert result.status_code == 200, result.text
    mine = [r["total"] for r in result.json()["rows"] if r["ce_number"] == "2026000001"]
    assert mine == [0, 0, 0, 90, 18]
    assert (await client.get("/v1/cycles/c2000/verification.xlsx", headers=bearer(city))).status_code == 200


async def test_a_download_named_after_any_school_id_is_served(client: httpx.AsyncClient, make_token: Any) -> None:
    """The file name carries the school id: one outside latin-1 (or with a quote) in the header as it
    was made the response fail with a 500."""
    city = bearer(make_token("city_admin", subject="city"))
    export = await client.get('/v1/schools/一小"/verifications/2026.xlsx', headers=city)
    assert export.status_code == 200, export.text
    assert export.headers["content-disposition"] == (
        'attachment; filename="verification-___-2026.xlsx"; '
        "filename*=UTF-8''verification-%E4%B8%80%E5%B0%8F%22-2026.xlsx"
    )


async def test_paging_offsets_are_bounded(client: httpx.AsyncClient, make_token: Any) -> None:
    """An offset past the store's 64-bit integers was a 500 (OverflowError in the driver); now a 422."""
    city = bearer(make_token("city_admin", subject="city"))
    for path in ("/v1/complaints", "/v1/declarations"):
        huge = await client.get(path, params={"skip": 10**20}, headers=city)
        assert huge.status_code == 422 and huge.json()["code"] == "validation_failed", huge.text
        assert (await client.get(path, params={"skip": 1_000_000}, headers=city)).status_code == 200


async def test_complaints_in_the_open_period_handled_by_the_district(
    clock: MovableClock, container: Container, client: httpx.AsyncClient, make_token: Any
) -> None:
    clock.set(datetime(2027, 2, 10, tzinfo=UTC))
    teacher = bearer(make_token("teacher", ce_number="2026000001"))
    closed = await client.post("/v1/complaints", json={"year": 2026, "content": "我的校本学时未计入"}, headers=teacher)
    assert closed.status_code == 409 and closed.json()["code"] == "complaint_period_closed"
    city = bearer(make_token("city_admin"))
    period = {
        "opens_at": datetime(2027, 2, 1, tzinfo=UTC).isoformat(),
        "closes_at": datetime(2027, 3, 1, tzinfo=UTC).isoformat(),
    }
    assert (await client.put("/v1/rules/2026/complaint-period", json=period, headers=city)).status_code == 200
    filed = await client.post("/v1/complaints", json={"year": 2026, "content": "我的校本学时未计入"}, headers=teacher)
    assert filed.status_code == 201, filed.text
    other = await client.post(
        "/v1/complaints",
        json={"year": 2026, "content": "验证结果有误"},
        headers=bearer(make_token("teacher", ce_number="2026000003")),
    )
    assert other.status_code == 201
    cid = filed.json()["id"]
    assert filed.json()["teacher_name"] == "陈晓明"
    wrong = await client.post(
        f"/v1/complaints/{cid}/handle",
        json={"reply": "已核实"},
        headers=bearer(make_token("district_admin", district="越秀区")),
    )
    assert wrong.status_code == 403
    district = bearer(make_token("district_admin", district="天河区"))
    handled = await client.post(f"/v1/complaints/{cid}/handle", json={"reply": "已补登校本学时"}, headers=district)
    assert handled.status_code == 200 and handled.json()["status"] == "handled"
    assert (
        await client.post(f"/v1/complaints/{cid}/handle", json={"reply": "again"}, headers=district)
    ).status_code == 409
    stats = (await client.get("/v1/complaints/statistics", params={"year": 2026}, headers=district)).json()["schools"]
    assert {(s["school_id"], s["total"], s["open"], s["handled"]) for s in stats} == {("s1", 1, 0, 1), ("s2", 1, 1, 0)}
    mine = (await client.get("/v1/complaints", headers=teacher)).json()["items"]
    assert len(mine) == 1
    first_page = (await client.get("/v1/complaints", params={"limit": 1}, headers=district)).json()
    second_page = (await client.get("/v1/complaints", params={"limit": 1, "skip": 1}, headers=district)).json()
    assert len(first_page["items"]) == len(second_page["items"]) == 1
    assert {first_page["items"][0]["id"], second_page["items"][0]["id"]} == {cid, other.json()["id"]}
    over = await client.get("/v1/complaints", params={"limit": 501}, headers=district)
    assert over.status_code == 422
    clock.set(datetime(2027, 3, 1, tzinfo=UTC) + timedelta(seconds=1))
    late = await client.post("/v1/complaints", json={"year": 2026, "content": "晚了"}, headers=teacher)
    assert late.status_code == 409


async def test_rules_are_data_edited_by_the_city(client: httpx.AsyncClient, make_token: Any) -> None:
    city = bearer(make_token("city_admin"))
    rules = (await client.get("/v1/rules/2027", headers=city)).json()
    assert rules["cap_groups"]["school_based"]["cap"] == 18 and rules["requirement"]["total"] == 72
    rules["cap_groups"]["school_based"]["cap"] = 24
    rules["requirement"]["total"] = 90
    assert (
        await client.put("/v1/rules/2027", json=rules, headers=bearer(make_token("district_admin", district="天河区")))
    ).status_code == 403
    stored = await client.put("/v1/rules/2027", json=rules, headers=city)
    assert stored.status_code == 200
    bad = await client.put("/v1/rules/2027", json={"cap_groups": {"x": {"label": "x", "cap": -1}}}, headers=city)
    assert bad.status_code == 422
    school = make_token("school_admin", school_id="s1", subject="school:s1")
    await credit(client, school, "2026000001", 2027, "school_based", "elective", 30, "r27")
    hours = (await client.get("/v1/teachers/2026000001/years/2027/hours", headers=city)).json()
    assert hours["elective"] == 24
    verification = (await client.get("/v1/teachers/2026000001/years/2027/verification", headers=city)).json()
    assert verification["requirement"]["total"] == 90


async def test_rules_with_infinite_or_huge_numbers_are_refused_and_nothing_is_stored(
    container: Container, client: httpx.AsyncClient, make_token: Any
) -> None:
    """Rules are edited as JSON, which Python reads with Infinity and NaN: an infinite requirement or
    10**20 points per hour was a 500 (no Infinity in the answer's JSON; no 64-bit integer for the store)."""
    city = {**bearer(make_token("city_admin")), "content-type": "application/json"}
    bodies = [
        b'{"xuexi_points_per_hour": 100000000000000000000}',
        b'{"requirement": {"total": Infinity}}',
        b'{"cap_groups": {"school_based": {"label": "x", "cap": NaN}}}',
        b'{"points_rules": {"shared_resource": {"label": "x", "points": 100000000000000000000}}}',
        b'{"redemption_caps": {"professional": 100000000000000000000}}',
    ]
    for body in bodies:
        refused = await client.put("/v1/rules/2027", content=body, headers=city)
        assert refused.status_code == 422 and refused.json()["code"] == "invalid_rules", (body, refused.text)
    assert await container.infra.db["rules"].count_documents({}) == 0
    rules = await client.get("/v1/rules/2027", headers=city)
    assert rules.status_code == 200 and rules.json()["requirement"]["total"] == 72
