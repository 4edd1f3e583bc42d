"""What a shared file is, by its content (never the client's name or media type), and rich-text cleaning.

Documents (doc, docx, xls, xlsx, ppt, pptx, pdf) and video (mp4). Office Open XML files must be zips
whose ``[Content_Types].xml`` names their main part; legacy Office files are OLE2 compound files; a PDF
starts with ``%PDF-`` and ends with ``%%EOF``; an MP4 starts with an ``ftyp`` box. On main the kit's
``jijiao_kit.uploads.check_upload`` parses PDFs and Office files fully: when it reaches this branch,
``check_shared_file`` should delegate the types it knows to it (one checker for the service)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from jijiao_kit.errors import InvalidInput
from studio.adapters import richtext
from studio.domain.community import PROBLEMS

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OOXML = {
    "word/document.xml": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xl/workbook.xml": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "ppt/presentation.xml": ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
}
_OLE_BY_NAME = {
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
}


@dataclass(frozen=True)
class SharedFile:
    kind: str  # "document" or "video"
    extension: str
    media_type: str
    size: int


def _refuse(code: str, detail: str, **extra: object) -> InvalidInput:
    titles = {
        "empty_file": "上传的文件为空",
        "file_too_large": "文件过大",
        "file_type_not_allowed": "只能共享文档(doc、docx、xls、xlsx、ppt、pptx、pdf)或视频(mp4)",
    }
    return InvalidInput(
        detail, code=code, title=titles.get(code) or PROBLEMS.get(code, (422, "文件有误"))[1], extra=extra
    )


def _ooxml(data: bytes) -> tuple[str, str] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names:
                return None
            types = archive.read("[Content_Types].xml")
    except (zipfile.BadZipFile, ValueError, OSError, KeyError):
        return None
    for part, found in _OOXML.items():
        if part in names and f'PartName="/{part}"'.encode() in types:
            return found
    return None


def sniff(data: bytes, filename: str) -> tuple[str, str, str] | None:
    """(kind, extension, media type) from the content; None when it is none of the shared types. For a
    legacy OLE2 file (one container for doc, xls and ppt) the name picks which, the content that it is one."""
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]:
        return "document", "pdf", "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        found = _ooxml(data)
        return ("document", *found) if found else None
    if data.startswith(OLE2):
        ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        return ("document", ext, _OLE_BY_NAME[ext]) if ext in _OLE_BY_NAME else None
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "video", "mp4", "video/mp4"
    return None


def check_shared_file(data: bytes, filename: str, *, max_document_bytes: int, max_video_bytes: int) -> SharedFile:
    """The checked type of a shared file, or a 422 problem before anything is stored."""
    if not data:
        raise _refuse("empty_file", f"{filename} is empty.")
    found = sniff(data, filename)
    if found is None:
        raise _refuse("file_type_not_allowed", f"{filename} is not a document or video the community shares.")
    kind, extension, media_type = found
    limit = max_video_bytes if kind == "video" else max_document_bytes
    if len(data) > limit:
        raise _refuse("file_too_large", f"{filename} is larger than {limit} bytes.", max_bytes=limit)
    return SharedFile(kind, extension, media_type, len(data))


#: Rich text of topics, replies and descriptions: the service's one sanitiser (nh3: no script, no event
#: handlers, no javascript: links).
clean_html = richtext.clean_html
