"""jijiao_kit.uploads: a file's type comes from its content and it must open cleanly as that type."""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest
from PIL import Image

from jijiao_kit.uploads import (
    DOC,
    DOCUMENTS,
    DOCX,
    JPEG,
    MP4,
    PDF,
    PDF_OR_IMAGE,
    PNG,
    PPT,
    PPTX,
    XLS,
    XLSX,
    UploadRejected,
    check_file,
    check_upload,
    sniff,
)
from jijiao_kit.xlsx import rows_xlsx
from jijiao_stack import samples
from jijiao_stack.samples import image, pdf

EVERYTHING = DOCUMENTS | PDF_OR_IMAGE | {MP4}


def test_clean_files_pass_with_their_real_type() -> None:
    assert check_file(pdf(pages=2), "a.png", PDF_OR_IMAGE).pages == 2
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


@pytest.mark.parametrize(
    ("make", "media_type", "extension"),
    [
        (lambda: samples.legacy_office("doc"), DOC, "doc"),
        (lambda: samples.legacy_office("xls"), XLS, "xls"),
        (lambda: samples.legacy_office("ppt"), PPT, "ppt"),
        (samples.docx, DOCX, "docx"),
        (samples.xlsx, XLSX, "xlsx"),
        (samples.pptx, PPTX, "pptx"),
        (samples.mp4, MP4, "mp4"),
    ],
)
def test_office_files_and_videos_pass_with_their_real_type(
    make: Callable[[], bytes], media_type: str, extension: str
) -> None:
    data = make()
    assert sniff(data) == media_type
    checked = check_file(data, "upload", EVERYTHING)
    assert (checked.media_type, checked.extension, checked.size) == (media_type, extension, len(data))
    with pytest.raises(UploadRejected) as caught:  # the right content, but not a type the caller allows
        check_file(data, "upload", PDF_OR_IMAGE)
    assert caught.value.code == "file_type_not_allowed"


def _mp4_box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


@pytest.mark.parametrize(
    ("data", "code"),
    [
        # a program or a page renamed to an Office or video name: the content decides
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200, "file_type_not_allowed"),
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "file_type_not_allowed"),
        # an OLE2 container without a Word, Excel or PowerPoint stream (e.g. an .msi)
        (samples.ole2("SummaryInformation", b"x"), "file_type_not_allowed"),
        (samples.ole2("WordDocument", b"<html>"), "invalid_file"),  # not Word's FIB
        (samples.legacy_office("xls")[:3000], "invalid_file"),  # cut off inside its Workbook stream
        (samples.ooxml("pptx", main_part=False), "file_type_not_allowed"),  # a zip without the main part
        (samples.mp4()[:-3], "invalid_file"),  # the last box runs past the end
        (samples.mp4() + b"<html>", "invalid_file"),  # bytes after the last box
        (_mp4_box(b"ftyp", b"isom\x00\x00\x02\x00isommp41") + _mp4_box(b"mdat", b"x"), "invalid_file"),  # no moov
        (_mp4_box(b"ftyp", b"qt  \x00\x00\x02\x00qt  ") + _mp4_box(b"moov", b""), "file_type_not_allowed"),  # QuickTime
    ],
)
def test_renamed_and_broken_office_files_and_videos_are_refused(data: bytes, code: str) -> None:
    with pytest.raises(UploadRejected) as caught:
        check_file(data, "x.docx", EVERYTHING)
    assert caught.value.status == 422 and caught.value.code == code
