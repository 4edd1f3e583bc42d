"""Checking uploaded files by their whole structure, not their first bytes or the client's word.

``%PDF-`` followed by HTML passed a first-bytes check and was served back as a PDF. Here the type is
sniffed from the content (``filetype``; legacy Office files by the streams of their OLE2 container),
then the file must open cleanly with a maintained parser of that type: a PDF with pypdf (strict; its
pages counted), an image with Pillow (``verify()``, then a full decode, within Pillow's
decompression-bomb limit), an Office Open XML file (docx, xlsx, pptx) as a zip with its
``[Content_Types].xml`` and main part, a legacy Office file (doc, xls, ppt) with olefile (its main
stream read whole, a Word or Excel stream starting with its format's signature), an MP4 video as a
sequence of boxes that covers the file exactly, ``ftyp`` first and a ``moov`` among them. The
client's file name and media type are never trusted. Parsing runs in a worker thread
(``check_upload``); it is bounded by the caller's size limit.
"""

from __future__ import annotations

import asyncio
import io
import logging
import struct
import warnings
import zipfile
from collections.abc import Collection
from dataclasses import dataclass

import filetype
import olefile
from PIL import Image
from pypdf import PdfReader

from jijiao_kit.errors import InvalidInput
from jijiao_kit.xlsx import XLSX_MEDIA_TYPE

logger = logging.getLogger(__name__)

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
XLSX = XLSX_MEDIA_TYPE
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOC = "application/msword"
XLS = "application/vnd.ms-excel"
PPT = "application/vnd.ms-powerpoint"
MP4 = "video/mp4"
PDF_OR_IMAGE = frozenset({PDF, PNG, JPEG})
#: Office files of both generations and PDF.
DOCUMENTS = frozenset({PDF, DOC, DOCX, XLS, XLSX, PPT, PPTX})
EXTENSIONS = {
    PDF: "pdf",
    PNG: "png",
    JPEG: "jpg",
    XLSX: "xlsx",
    DOCX: "docx",
    PPTX: "pptx",
    DOC: "doc",
    XLS: "xls",
    PPT: "ppt",
    MP4: "mp4",
}
#: The media type a file name's extension stands for (for callers that also hold the name to its word).
BY_EXTENSION = {extension: media for media, extension in EXTENSIONS.items()} | {"jpeg": JPEG}
#: The main part an Office Open XML file of each type must have.
_OFFICE_PARTS = {XLSX: "xl/workbook.xml", DOCX: "word/document.xml", PPTX: "ppt/presentation.xml"}
#: The main stream a legacy Office file (an OLE2 container) of each type must have, and the bytes it
#: starts with where its format fixes them (Word's FIB identifier, Excel's BOF record).
_OLE_STREAMS: dict[str, tuple[tuple[str, bytes], ...]] = {
    DOC: (("WordDocument", b"\xec\xa5"),),
    XLS: (("Workbook", b"\x09\x08"), ("Book", b"\x09\x08")),
    PPT: (("PowerPoint Document", b""),),
}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
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
    if data.startswith(_OLE_MAGIC):
        return _ole_type(data)
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


def _ole_main_stream(ole: olefile.OleFileIO, media_type: str) -> tuple[str, bytes] | None:
    for stream, signature in _OLE_STREAMS[media_type]:
        if ole.exists(stream) and ole.get_type(stream) == olefile.STGTY_STREAM:
            return stream, signature
    return None


def _ole_type(data: bytes) -> str | None:
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            return next((media for media in _OLE_STREAMS if _ole_main_stream(ole, media)), None)
    except Exception:  # olefile's own errors and whatever a broken directory raises: not a clean container
        return None


def _check_ole(data: bytes, media_type: str) -> CheckedFile:
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        found = _ole_main_stream(ole, media_type)
        if found is None:
            raise ValueError("no main stream")
        stream, signature = found
        size = ole.get_size(stream)
        with ole.openstream(stream) as content:
            body = content.read()
        if len(body) != size or not body.startswith(signature):
            raise ValueError(f"the {stream} stream is damaged")
    return CheckedFile(media_type, EXTENSIONS[media_type], len(data))


def _check_mp4(data: bytes) -> CheckedFile:
    """Top-level boxes (size, type; a size of 1 means a 64-bit size follows, 0 "to the end") must cover
    the file exactly, the first an ``ftyp``, a ``moov`` (the movie's header) among them."""
    kinds: list[bytes] = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < 8:
            raise ValueError("a truncated box header")
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            if len(data) - offset < 16:
                raise ValueError("a truncated box header")
            (size,) = struct.unpack_from(">Q", data, offset + 8)
            header = 16
        elif size == 0:
            size = len(data) - offset
        if not all(0x20 <= byte < 0x7F for byte in kind):
            raise ValueError(f"a box type {kind!r}")
        if size < header or offset + size > len(data):
            raise ValueError(f"the {kind.decode()} box runs past the end")
        kinds.append(kind)
        offset += size
    if kinds[:1] != [b"ftyp"] or b"moov" not in kinds:
        raise ValueError(f"boxes {kinds[:8]!r}: ftyp first and a moov wanted")
    return CheckedFile(MP4, "mp4", len(data))


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
        if media_type in _OLE_STREAMS:
            return _check_ole(data, media_type)
        if media_type == MP4:
            return _check_mp4(data)
    except Exception as exc:  # every parser has its own errors; any of them means "not a clean file"
        logger.info("upload %r refused as %s: %s", filename, media_type, exc)
        raise UploadRejected(f"{filename} is not a valid {EXTENSIONS.get(media_type, media_type)} file.") from exc
    raise UploadRejected(f"{filename}: no check for {media_type}.", code="file_type_not_allowed")


async def check_upload(data: bytes, filename: str, allowed: Collection[str] = PDF_OR_IMAGE) -> CheckedFile:
    """``check_file`` in a worker thread (parsing a PDF or decoding an image takes a while)."""
    return await asyncio.to_thread(check_file, data, filename, frozenset(allowed))
