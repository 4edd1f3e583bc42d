"""jijiao_kit.uploads: a file's type comes from its content and it must open cleanly as that type."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf import PdfWriter

from jijiao_kit.uploads import JPEG, PDF, PDF_OR_IMAGE, PNG, XLSX, UploadRejected, check_file, check_upload
from jijiao_kit.xlsx import rows_xlsx


def pdf(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=100, height=100)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def image(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, kind)
    return buffer.getvalue()


def test_clean_files_pass_with_their_real_type() -> None:
    assert check_file(pdf(2), "a.png", PDF_OR_IMAGE).pages == 2
    assert check_file(image("PNG"), "a.pdf", PDF_OR_IMAGE).media_type == PNG
    checked = check_file(image("JPEG"), "a", PDF_OR_IMAGE)
    assert (checked.media_type, checked.width, checked.height) == (JPEG, 4, 4)
    assert check_file(rows_xlsx("t", ["h"], [["x"]]), "a.xlsx", {XLSX}).media_type == XLSX


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"%PDF-1.4\n<html><script>alert(1)</script></html>", "invalid_file"),
        (pdf()[:-60], "invalid_file"),  # cut off before its trailer
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "invalid_file"),
        (image("PNG")[:50], "invalid_file"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "invalid_file"),
        (b"<html></html>", "file_type_not_allowed"),
        (b"MZ\x90\x00" + b"\x00" * 64, "file_type_not_allowed"),
        (rows_xlsx("t", ["h"], []), "file_type_not_allowed"),  # an xlsx where a PDF or image is wanted
        (b"", "empty_file"),
    ],
)
def test_files_that_do_not_open_cleanly_are_refused(data: bytes, code: str) -> None:
    with pytest.raises(UploadRejected) as caught:
        check_file(data, "upload", PDF_OR_IMAGE)
    assert caught.value.status == 422 and caught.value.code == code


def test_a_decompression_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 8)  # a 4x4 image is then "too many pixels"
    with pytest.raises(UploadRejected):
        check_file(image("PNG"), "bomb.png", PDF_OR_IMAGE)


async def test_check_upload_runs_off_the_loop() -> None:
    assert (await check_upload(pdf(), "a.pdf")).media_type == PDF
