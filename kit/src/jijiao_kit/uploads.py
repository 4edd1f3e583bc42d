"""Checking uploaded files by their whole structure, not their first bytes or the client's word.

``%PDF-`` followed by HTML passed a first-bytes check and was served back as a PDF. Here the type is
sniffed from the content (``filetype``), then the file must open cleanly with a maintained parser of
that type: a PDF with pypdf (strict; its pages counted), an image with Pillow (``verify()``, then a
full decode, within Pillow's decompression-bomb limit), an Office file as a zip with its
``[Content_Types].xml`` and main part. The client's file name and media type are never trusted.
Parsing runs in a worker thread (``check_upload``); it is bounded by the caller's size limit.
"""

from __future__ import annotations

import asyncio
import io
import logging
import warnings
import zipfile
from collections.abc import Collection
from dataclasses import dataclass

import filetype
from PIL import Image
from pypdf import PdfReader

from jijiao_kit.errors import InvalidInput

logger = logging.getLogger(__name__)

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_OR_IMAGE = frozenset({PDF, PNG, JPEG})
EXTENSIONS = {PDF: "pdf", PNG: "png", JPEG: "jpg", XLSX: "xlsx", DOCX: "docx"}
#: The main part an Office file of each type must have.
_OFFICE_PARTS = {XLSX: "xl/workbook.xml", DOCX: "word/document.xml"}
#: Pages a PDF may have (proofs and certificates are a few pages).
MAX_PDF_PAGES = 200


class UploadRejected(InvalidInput):
    code, title = "invalid_file", "文件格式不正确或文件已损坏"


@dataclass(frozen=True)
class CheckedFile:
    media_type: str
    extension: str
    size: int
    pages: int | None = None  # PDFs
    width: int | None = None  # images
    height: int | None = None


def _label(allowed: Collection[str]) -> str:
    return ", ".join(sorted(EXTENSIONS.get(media, media) for media in allowed))


def sniff(data: bytes) -> str | None:
    """The media type the content says it is (never the client's claim)."""
    kind = filetype.guess(data[:8192])
    if kind is None:
        return None
    mime = str(kind.mime)
    if mime == "application/zip" or mime in _OFFICE_PARTS:
        return _office_type(data)
    return mime


def _office_type(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    for media, part in _OFFICE_PARTS.items():
        if part in names:
            return media
    return None


def _check_pdf(data: bytes) -> CheckedFile:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = PdfReader(io.BytesIO(data), strict=True)
        pages = len(reader.pages)
        if not 1 <= pages <= MAX_PDF_PAGES:
            raise ValueError(f"{pages} pages")
        reader.pages[0].mediabox  # noqa: B018 - the first page's dictionary must resolve
    return CheckedFile(PDF, "pdf", len(data), pages=pages)


def _check_image(data: bytes, media_type: str) -> CheckedFile:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as probe:
            if Image.MIME.get(str(probe.format)) != media_type:
                raise ValueError(f"the content is {probe.format}")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:  # verify() leaves the image unusable: open again
            image.load()
            width, height = image.size
    return CheckedFile(media_type, EXTENSIONS[media_type], len(data), width=width, height=height)


def _check_office(data: bytes, media_type: str) -> CheckedFile:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if archive.testzip() is not None:
            raise ValueError("a damaged member")
        types = archive.read("[Content_Types].xml")
        if f'PartName="/{_OFFICE_PARTS[media_type]}"'.encode() not in types:
            raise ValueError("[Content_Types].xml does not name the main part")
    return CheckedFile(media_type, EXTENSIONS[media_type], len(data))


def check_file(data: bytes, filename: str, allowed: Collection[str]) -> CheckedFile:
    """The checked type of ``data``, or ``UploadRejected`` (422). Blocking: see ``check_upload``."""
    if not data:
        raise UploadRejected(f"{filename} is empty.", code="empty_file", title="上传的文件为空")
    media_type = sniff(data)
    if media_type is None or media_type not in allowed:
        raise UploadRejected(
            f"{filename} is not one of: {_label(allowed)}.",
            code="file_type_not_allowed",
            title="文件类型不允许",
            extra={"allowed": sorted(allowed)},
        )
    try:
        if media_type == PDF:
            return _check_pdf(data)
        if media_type.startswith("image/"):
            return _check_image(data, media_type)
        if media_type in _OFFICE_PARTS:
            return _check_office(data, media_type)
    except Exception as exc:  # every parser has its own errors; any of them means "not a clean file"
        logger.info("upload %r refused as %s: %s", filename, media_type, exc)
        raise UploadRejected(f"{filename} is not a valid {EXTENSIONS.get(media_type, media_type)} file.") from exc
    raise UploadRejected(f"{filename}: no check for {media_type}.", code="file_type_not_allowed")


async def check_upload(data: bytes, filename: str, allowed: Collection[str] = PDF_OR_IMAGE) -> CheckedFile:
    """``check_file`` in a worker thread (parsing a PDF or decoding an image takes a while)."""
    return await asyncio.to_thread(check_file, data, filename, frozenset(allowed))
