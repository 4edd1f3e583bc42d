"""Registration by organisers: caps at crediting time, reference idempotency, role and scope, 学习强国
with a sealed proof, bulk .xlsx, and caps under 200 parallel registrations."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import httpx
from openpyxl import Workbook
from PIL import Image

from hours.bootstrap import Container
from jijiao_stack.pytest_plugin import bearer


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "PNG")
    return buffer.getvalue()


PNG = _png()  # a real image: uploads are checked by their whole structure


def reg(ce: str, source: str, category: str, hours: float | None, reference: str, **extra: Any) -> dict[str, Any]:
    body = {"ce_number": ce, "year": 2026, "source": source, "category": category, "reference": reference}
    if hours is not None:
        body["hours"] = hours
    return body | extra


async def test_school_based_is_capped_at_18_with_the_excess_visible(client: httpx.AsyncClient, make_token: Any) -> None:
    school = bearer(make_token("school_admin", school_id="s1"))
    first = await client.post(
        "/v1/hour-registrations", json=reg("2026000001", "school_based", "elective", 10, "XB-1"), headers=school
    )
    second = await client.post(
        "/v1/hour-registrations", json=reg("2026000001", "school_based", "elective", 10, "XB-2"), headers=school
    )
    assert first.status_code == 201, first.text
    assert second.status_code == 201
    assert (second.json()["credited"], second.json()["not_credited"]) == (8, 2)
    assert second.json()["reason"] == "yearly_cap:school_based"
    hours = await client.get(
        "/v1/teachers/2026000001/years/2026/hours", headers=bearer(make_token("teacher", ce_number="2026000001"))
    )
    body = hours.json()
    assert set(body) == {"public", "professional", "elective", "total", "carried_in", "entries"}
    assert (body["elective"], body["total"], body["carried_in"]) == (18, 18, 0)
    assert sorted(e["not_credited"] for e in body["entries"]) == [0, 2]


async def test_same_reference_credits_once_and_a_reused_reference_is_refused(
    client: httpx.AsyncClient, make_token: Any, container: Container
) -> None:
    district = bearer(make_token("district_admin", district="天河区", subject="district:th"))
    body = reg("2026000002", "training_class", "professional", 12, "PX-7")
    first = await client.post("/v1/hour-registrations", json=body, headers=district)
    again = await client.post("/v1/hour-registrations", json=body, headers=district)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    reused = await client.post("/v1/hour-registrations", json=body | {"hours": 13}, headers=district)
    assert reused.status_code == 409 and reused.json()["code"] == "reference_reused"
    other = bearer(make_token("district_admin", district="天河区", subject="district:other"))
    assert (await client.post("/v1/hour-registrations", json=body, headers=other)).status_code == 201
    assert await container.infra.db["ledger"].count_documents({"ce_number": "2026000002"}) == 2


async def test_each_registrant_only_its_own_kind_of_source_and_scope(
    client: httpx.AsyncClient, make_token: Any
) -> None:
    research = bearer(make_token("research_office"))
    refused = await client.post(
        "/v1/hour-registrations", json=reg("2026000001", "school_based", "elective", 2, "R1"), headers=research
    )
    assert refused.status_code == 403 and refused.json()["code"] == "source_not_allowed"
    ok = await client.post(
        "/v1/hour-registrations", json=reg("2026000001", "teaching_research", "professional", 4, "R1"), headers=research
    )
    assert ok.status_code == 201
    other_school = bearer(make_token("school_admin", school_id="s2"))
    out = await client.post(
        "/v1/hour-registrations", json=reg("2026000001", "school_based", "elective", 2, "X"), headers=other_school
    )
    assert out.status_code == 403 and out.json()["code"] == "out_of_scope"
    other_district = bearer(make_token("district_admin", district="越秀区"))
    out2 = await client.post(
        "/v1/hour-registrations",
        json=reg("2026000001", "training_class", "professional", 2, "X"),
        headers=other_district,
    )
    assert out2.status_code == 403
    teacher = bearer(make_token("teacher", ce_number="2026000001"))
    assert (
        await client.post(
            "/v1/hour-registrations", json=reg("2026000001", "training_class", "professional", 2, "X"), headers=teacher
        )
    ).status_code == 403
    redemption = await client.post(
        "/v1/hour-registrations",
        json=reg("2026000001", "points_redemption", "elective", 2, "X"),
        headers=bearer(make_token("city_admin")),
    )
    assert redemption.status_code == 403 and redemption.json()["code"] == "source_not_registrable"
    wrong_category = await client.post(
        "/v1/hour-registrations",
        json=reg("2026000001", "school_based", "professional", 2, "Y"),
        headers=bearer(make_token("school_admin", school_id="s1")),
    )
    assert wrong_category.status_code == 422 and wrong_category.json()["code"] == "category_not_allowed"
    unknown = await client.post(
        "/v1/hour-registrations",
        json=reg("2099999999", "school_based", "elective", 2, "Z"),
        headers=bearer(make_token("school_admin", school_id="s1")),
    )
    assert unknown.status_code == 404
    malformed = await client.post(
        "/v1/hour-registrations", content=b"{", headers={**research, "content-type": "application/json"}
    )
    assert malformed.status_code == 400 and malformed.headers["content-type"].startswith("application/problem+json")


async def test_xuexi_qiangguo_needs_the_sealed_proof_and_converts_300_points_per_hour(
    client: httpx.AsyncClient, make_token: Any
) -> None:
    school = bearer(make_token("school_admin", school_id="s1", subject="school:s1"))
    body = reg("2026000001", "xuexi_qiangguo", "elective", None, "XX-1", points=2750)
    missing = await client.post("/v1/hour-registrations", json=body, headers=school)
    assert missing.status_code == 422 and missing.json()["code"] == "proof_required"
    bad_file = await client.post("/v1/proofs", files={"file": ("proof.txt", b"hello", "text/plain")}, headers=school)
    assert bad_file.status_code == 422 and bad_file.json()["code"] == "file_type_not_allowed"
    proof = await client.post("/v1/proofs", files={"file": ("盖章证明.png", PNG, "image/png")}, headers=school)
    assert proof.status_code == 201, proof.text
    credited = await client.post(
        "/v1/hour-registrations", json=body | {"proof_id": proof.json()["proof_id"]}, headers=school
    )
    assert credited.status_code == 201, credited.text
    entry = credited.json()
    assert (entry["requested"], entry["credited"], entry["not_credited"]) == (9, 8, 1)
    assert entry["detail"]["points_not_converted"] == 50


async def test_parallel_registrations_never_exceed_the_cap(
    client: httpx.AsyncClient, make_token: Any, container: Container
) -> None:
    research = bearer(make_token("research_office", subject="research:city"))
    bodies = [reg("2026000003", "teaching_research", "professional", 1, f"JY-{i}") for i in range(200)]
    responses = await asyncio.gather(*(client.post("/v1/hour-registrations", json=b, headers=research) for b in bodies))
    assert all(r.status_code == 201 for r in responses), {r.status_code for r in responses}
    credited = [r.json()["credited"] for r in responses]
    assert sum(credited) == 10 and credited.count(1) == 10 and credited.count(0) == 190
    assert await container.infra.db["ledger"].count_documents({"ce_number": "2026000003"}) == 200
    year = await container.infra.db["teacher_years"].find_one({"_id": "2026000003:2026"})
    assert year is not None and year["used"]["teaching_research"] == 1000 and year["pending_count"] == 0


def workbook(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["继续教育学号", "年度", "学时来源", "学时类别", "学时", "登记编号", "学习强国积分", "证明文件编号"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def test_bulk_registration_reports_every_row(client: httpx.AsyncClient, make_token: Any) -> None:
    school = bearer(make_token("school_admin", school_id="s1", subject="school:s1"))
    data = workbook(
        [
            ["2026000001", 2026, "校本研修", "个人选修科目", 6, "B-1", None, None],
            ["2026000002", 2026, "school_based", "elective", 20, "B-2", None, None],
            ["2026000001", 2026, "校本研修", "个人选修科目", 6, "B-1", None, None],
            ["2026000003", 2026, "校本研修", "个人选修科目", 6, "B-3", None, None],
            ["2026000001", 2026, "校本研修", "魔法", 6, "B-4", None, None],
        ]
    )
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = await client.post(
        "/v1/hour-registrations/bulk", files={"file": ("登记.xlsx", data, xlsx)}, headers=school
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["rows"], body["credited"], body["duplicate"], body["error"]) == (5, 2, 1, 2)
    report = {line["row"]: line for line in body["report"]}
    assert report[3]["credited"] == 18 and report[3]["not_credited"] == 2
    assert report[4]["status"] == "duplicate"
    assert report[5]["code"] == "out_of_scope"
    assert report[6]["code"] == "invalid_category"
    not_xlsx = await client.post(
        "/v1/hour-registrations/bulk", files={"file": ("x.xlsx", b"nope", xlsx)}, headers=school
    )
    assert not_xlsx.status_code == 422 and not_xlsx.json()["code"] == "invalid_workbook"


async def test_bulk_rows_with_out_of_range_numbers_are_reported_not_a_500(
    client: httpx.AsyncClient, make_token: Any
) -> None:
    """The bulk rows get the bounds of the single registration (year 2000–2100, hours up to 1000, points
    up to 10^8): a year with no rules, an infinite or huge number was a 500 for the whole workbook."""
    school = bearer(make_token("school_admin", school_id="s1", subject="school:s1"))
    data = workbook(
        [
            ["2026000001", 1999, "校本研修", "个人选修科目", 6, "R-1", None, None],
            ["2026000001", "99999999999999999999", "校本研修", "个人选修科目", 6, "R-2", None, None],
            ["2026000001", 2026, "校本研修", "个人选修科目", "1e400", "R-3", None, None],
            ["2026000001", 2026, "校本研修", "个人选修科目", "nan", "R-4", None, None],
            ["2026000001", 2026, "学习强国", "个人选修科目", None, "R-5", "1e400", "p"],
            ["2026000001", 2026, "学习强国", "个人选修科目", None, "R-6", "1e30", "p"],
            ["2026000001", 2026, "校本研修", "个人选修科目", 6, "R-7", None, None],
        ]
    )
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = await client.post(
        "/v1/hour-registrations/bulk", files={"file": ("登记.xlsx", data, xlsx)}, headers=school
    )
    assert response.status_code == 200, response.text
    report = {line["row"]: line for line in response.json()["report"]}
    assert [report[row]["code"] for row in range(2, 8)] == [
        "invalid_year",
        "invalid_year",
        "invalid_number",
        "invalid_number",
        "invalid_number",
        "points_out_of_range",
    ]
    assert report[8]["status"] == "credited"
