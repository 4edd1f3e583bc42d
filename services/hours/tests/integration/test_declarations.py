"""学时申报: submit with attachments, school initial review, district final review, return with a
mandatory reason and resubmission, every round visible, filters, credit on final approval."""

from __future__ import annotations

import io
from typing import Any

import httpx
from PIL import Image
from pypdf import PdfWriter

from hours.bootstrap import Container
from jijiao_stack.pytest_plugin import bearer


def _pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "JPEG")
    return buffer.getvalue()


PDF = _pdf()  # real files: uploads are checked by their whole structure
JPEG = _jpeg()


def form(**overrides: Any) -> dict[str, Any]:
    return {
        "year": "2026",
        "training_type": "degree_related",
        "hours": "30",
        "title": "教育硕士课程",
        "institution": "华南师范大学",
    } | overrides


async def test_two_level_review_with_a_return_and_resubmission(
    client: httpx.AsyncClient, make_token: Any, container: Container
) -> None:
    teacher = bearer(make_token("teacher", ce_number="2026000001"))
    school = bearer(make_token("school_admin", school_id="s1", subject="school:s1"))
    district = bearer(make_token("district_admin", district="天河区", subject="district:th"))
    created = await client.post(
        "/v1/declarations",
        data=form(),
        files=[("files", ("成绩单.pdf", PDF, "application/pdf")), ("files", ("证书.jpg", JPEG, "image/jpeg"))],
        headers=teacher,
    )
    assert created.status_code == 201, created.text
    declaration = created.json()
    did = declaration["id"]
    assert declaration["status"] == "submitted" and len(declaration["attachments"]) == 2
    assert declaration["category"] == "professional"

    premature = await client.post(
        f"/v1/declarations/{did}/final-review", json={"decision": "approve"}, headers=district
    )
    assert premature.status_code == 409
    no_reason = await client.post(f"/v1/declarations/{did}/initial-review", json={"decision": "return"}, headers=school)
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"
    other_school = bearer(make_token("school_admin", school_id="s2"))
    assert (
        await client.post(f"/v1/declarations/{did}/initial-review", json={"decision": "approve"}, headers=other_school)
    ).status_code == 403
    returned = await client.post(
        f"/v1/declarations/{did}/initial-review",
        json={"decision": "return", "reason": "缺少成绩单盖章"},
        headers=school,
    )
    assert returned.status_code == 200 and returned.json()["status"] == "returned"

    resubmitted = await client.put(
        f"/v1/declarations/{did}",
        data={"hours": "32"},
        files=[("files", ("盖章成绩单.pdf", PDF, "application/pdf"))],
        headers=teacher,
    )
    assert resubmitted.status_code == 200, resubmitted.text
    assert resubmitted.json()["round"] == 2 and resubmitted.json()["status"] == "submitted"
    assert (
        await client.post(f"/v1/declarations/{did}/initial-review", json={"decision": "approve"}, headers=school)
    ).status_code == 200
    final = await client.post(f"/v1/declarations/{did}/final-review", json={"decision": "approve"}, headers=district)
    assert final.status_code == 200 and final.json()["status"] == "approved"
    rounds = final.json()["rounds"]
    assert [r["round"] for r in rounds] == [1, 2]
    assert rounds[0]["initial"]["decision"] == "returned" and rounds[0]["initial"]["reason"] == "缺少成绩单盖章"
    assert rounds[1]["initial"]["decision"] == "approved" and rounds[1]["final"]["decision"] == "approved"
    again = await client.post(f"/v1/declarations/{did}/final-review", json={"decision": "approve"}, headers=district)
    assert again.status_code == 409

    hours = (await client.get("/v1/teachers/2026000001/years/2026/hours", headers=teacher)).json()
    assert hours["professional"] == 28  # degree study, same field: 28 a year
    (entry,) = hours["entries"]
    assert entry["not_credited"] == 4 and entry["reference"] == {
        "kind": "declaration",
        "id": did,
        "title": "教育硕士课程",
    }
    await container.declarations.credit_approved(did)  # the event handler's safety net does not count twice
    assert await container.infra.db["ledger"].count_documents({"ce_number": "2026000001"}) == 1

    attachment_id = final.json()["attachments"][0]["id"]
    file = await client.get(f"/v1/declarations/{did}/attachments/{attachment_id}", headers=school)
    assert file.status_code == 200 and file.content == PDF
    outsider = bearer(make_token("teacher", ce_number="2026000002"))
    assert (await client.get(f"/v1/declarations/{did}", headers=outsider)).status_code == 404


async def test_attachment_limits_and_filters(client: httpx.AsyncClient, make_token: Any, container: Container) -> None:
    teacher = bearer(make_token("teacher", ce_number="2026000001"))
    none = await client.post("/v1/declarations", data=form(), headers=teacher)
    assert none.status_code == 422 and none.json()["code"] == "attachment_required"
    exe = await client.post(
        "/v1/declarations", data=form(), files=[("files", ("a.pdf", b"MZ\x90\x00", "application/pdf"))], headers=teacher
    )
    assert exe.status_code == 422 and exe.json()["code"] == "file_type_not_allowed"
    big = b"%PDF-" + b"0" * container.settings.max_attachment_bytes
    too_big = await client.post(
        "/v1/declarations", data=form(), files=[("files", ("a.pdf", big, "application/pdf"))], headers=teacher
    )
    assert too_big.status_code == 422 and too_big.json()["code"] == "file_too_large"
    bad_type = await client.post(
        "/v1/declarations",
        data=form(training_type="school_based"),
        files=[("files", ("a.pdf", PDF, "application/pdf"))],
        headers=teacher,
    )
    assert bad_type.status_code == 422
    for title, kind in (("国培计划骨干班", "national_provincial_training"), ("中职行业培训", "industry_training")):
        ok = await client.post(
            "/v1/declarations",
            data=form(title=title, training_type=kind, hours="12"),
            files=[("files", ("a.pdf", PDF, "application/pdf"))],
            headers=teacher,
        )
        assert ok.status_code == 201
    other = bearer(make_token("teacher", ce_number="2026000004"))
    assert (
        await client.post(
            "/v1/declarations", data=form(), files=[("files", ("a.pdf", PDF, "application/pdf"))], headers=other
        )
    ).status_code == 201
    school = bearer(make_token("school_admin", school_id="s1"))
    listed = (await client.get("/v1/declarations", params={"title": "国培"}, headers=school)).json()["items"]
    assert [d["title"] for d in listed] == ["国培计划骨干班"]
    by_type = (
        await client.get(
            "/v1/declarations",
            params={"training_type": "industry_training", "year": 2026, "status": "submitted"},
            headers=school,
        )
    ).json()["items"]
    assert len(by_type) == 1
    by_name = (
        await client.get("/v1/declarations", params={"teacher_name": "陈晓明", "institution": "华南"}, headers=school)
    ).json()["items"]
    assert len(by_name) == 2
    pages = [
        (
            await client.get(
                "/v1/declarations", params={"teacher_name": "陈晓明", "limit": 1, "skip": skip}, headers=school
            )
        ).json()["items"]
        for skip in (0, 1, 2)
    ]
    assert [len(page) for page in pages[:2]] == [1, 1] and pages[0][0]["id"] != pages[1][0]["id"]
    assert (
        await client.get("/v1/declarations", headers=bearer(make_token("district_admin", district="越秀区")))
    ).json()["items"][0]["ce_number"] == "2026000004"
    sneaky = (await client.get("/v1/declarations", params={"ce_number": "2026000004"}, headers=teacher)).json()["items"]
    assert sneaky == []
