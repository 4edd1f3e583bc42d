"""Issue 12 item 9: uploads are checked by their whole structure (``%PDF-`` followed by HTML, a PNG
header on garbage, a PDF named .png are refused; nothing is stored), and an attachment is served as a
download (``Content-Disposition: attachment``, ``nosniff``)."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image
from pypdf import PdfWriter

from hours.bootstrap import Container
from jijiao_stack.pytest_plugin import bearer


def real_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def real_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "PNG")
    return buffer.getvalue()


FORM = {"year": "2026", "training_type": "degree_related", "hours": "30", "title": "教育硕士课程"}
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("evil.pdf", b"%PDF-1.4\n" + HTML, "invalid_file"),
        ("evil.png", b"\x89PNG\r\n\x1a\n" + HTML, "invalid_file"),
        ("truncated.png", real_png()[:40], "invalid_file"),
        ("page.html", HTML, "file_type_not_allowed"),
    ],
)
async def test_files_that_do_not_open_cleanly_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, make_token: Any, container: Container, name: str, data: bytes, code: str
) -> None:
    teacher = bearer(make_token("teacher", ce_number="2026000001"))
    refused = await client.post(
        "/v1/declarations", data=FORM, files=[("files", (name, data, "application/pdf"))], headers=teacher
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == code
    assert await container.infra.db["declarations"].count_documents({}) == 0
    stored = container.settings.attachments_dir
    assert not stored.exists() or not any(path.is_file() for path in stored.rglob("*"))
    school = bearer(make_token("school_admin", school_id="s1", subject="school:s1"))
    proof = await client.post("/v1/proofs", files={"file": (name, data, "image/png")}, headers=school)
    assert proof.status_code == 422 and proof.json()["code"] == code


async def test_an_attachment_is_served_as_a_download(client: httpx.AsyncClient, make_token: Any) -> None:
    teacher = bearer(make_token("teacher", ce_number="2026000001"))
    pdf = real_pdf()
    created = await client.post(
        "/v1/declarations", data=FORM, files=[("files", ("成绩单.pdf", pdf, "text/html"))], headers=teacher
    )
    assert created.status_code == 201, created.text
    [attachment] = created.json()["attachments"]
    assert attachment["content_type"] == "application/pdf"  # from the content, not the client's word
    file = await client.get(f"/v1/declarations/{created.json()['id']}/attachments/{attachment['id']}", headers=teacher)
    assert file.status_code == 200 and file.content == pdf
    assert file.headers["content-type"] == "application/pdf"
    assert file.headers["content-disposition"].startswith("attachment;")
    assert file.headers["x-content-type-options"] == "nosniff"
