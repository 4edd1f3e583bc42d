"""What a shared file is, by its content (never the client's media type), and rich-text cleaning.

Documents (doc, docx, xls, xlsx, ppt, pptx, pdf) go through the studio's one upload checker
(``studio.adapters.uploads.check_upload``: the name and the content must agree); video is MP4, whose
content starts with an ``ftyp`` box. Sizes are limited per kind, before anything is stored."""

from __future__ import annotations

from dataclasses import dataclass

from studio.adapters import richtext, uploads
from studio.domain.problems import problem

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "mp4": "video/mp4",
}
VIDEO = frozenset({"mp4"})


@dataclass(frozen=True)
class SharedFile:
    kind: str  # "document" or "video"
    extension: str
    media_type: str
    size: int


def is_mp4(data: bytes) -> bool:
    return len(data) >= 12 and data[4:8] == b"ftyp"


def check_shared_file(data: bytes, filename: str, *, max_document_bytes: int, max_video_bytes: int) -> SharedFile:
    """The checked type of a shared file, or a 413/415 problem before anything is stored."""
    if uploads.extension(filename) in VIDEO:
        if not is_mp4(data):
            raise problem("upload_type", f"The content of {filename!r} is not an mp4 video.")
        kind, ext, limit = "video", "mp4", max_video_bytes
    else:
        ext = uploads.check_upload(filename, data, uploads.DOCUMENTS)
        kind, limit = "document", max_document_bytes
    if len(data) > limit:
        raise problem("upload_too_large", f"{filename} is larger than {limit} bytes.")
    return SharedFile(kind, ext, MEDIA_TYPES[ext], len(data))


#: Rich text of topics, replies and descriptions: the service's one sanitiser (nh3: no script, no event
#: handlers, no javascript: links).
clean_html = richtext.clean_html
