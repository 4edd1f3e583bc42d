"""What a shared file is, by its content (never the client's media type), and rich-text cleaning.

Documents (doc, docx, xls, xlsx, ppt, pptx, pdf) and MP4 videos go through the studio's one upload
checker (``studio.adapters.uploads.check_type``, the kit's content check: the name and the content must
agree). Sizes are limited per kind, before anything is stored."""

from __future__ import annotations

from dataclasses import dataclass

from jijiao_kit.uploads import MP4
from studio.adapters import richtext, uploads
from studio.domain.problems import problem

VIDEO = frozenset({"mp4"})
SHARED = uploads.DOCUMENTS | VIDEO


@dataclass(frozen=True)
class SharedFile:
    kind: str  # "document" or "video"
    extension: str
    media_type: str
    size: int


def check_shared_file(data: bytes, filename: str, *, max_document_bytes: int, max_video_bytes: int) -> SharedFile:
    """The checked type of a shared file, or a 413/415 problem before anything is stored. The size is
    held to the limit of the kind the name claims before the content is parsed (the parse is then
    bounded; it blocks: call this off the event loop)."""
    claimed = uploads.extension(filename)
    if claimed not in SHARED:
        raise problem("upload_type", f"Allowed types: {sorted(SHARED)}.")
    limit = max_video_bytes if claimed in VIDEO else max_document_bytes
    if len(data) > limit:
        raise problem("upload_too_large", f"{filename} is larger than {limit} bytes.")
    checked = uploads.check_type(filename, data, SHARED)
    kind = "video" if checked.media_type == MP4 else "document"
    return SharedFile(kind, checked.extension, checked.media_type, len(data))


#: Rich text of topics, replies and descriptions: the service's one sanitiser (nh3: no script, no event
#: handlers, no javascript: links).
clean_html = richtext.clean_html
