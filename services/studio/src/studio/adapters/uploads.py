"""Uploaded files: type checked by content (``jijiao_kit.uploads``, held to the name's extension), size
limited while reading, kept on disk by content hash. One function decides (``check_type``)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from jijiao_kit import uploads as kit
from studio.domain.problems import problem

DOCUMENTS = frozenset({"doc", "docx", "xls", "xlsx", "ppt", "pptx", "pdf"})
IMAGES = frozenset({"jpg", "jpeg", "png"})
EVIDENCE = DOCUMENTS | IMAGES  # invoice scans are images or PDFs


def extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def check_type(filename: str, data: bytes, allowed: frozenset[str]) -> kit.CheckedFile:
    """The checked file when its name's extension is allowed and its content is a clean file of that
    type (the kit's check); else 415 ``upload_type``. Blocking: see ``check_upload``."""
    claimed = extension(filename)
    if claimed not in allowed or claimed not in kit.BY_EXTENSION:
        raise problem("upload_type", f"Allowed types: {sorted(allowed)}.")
    try:
        return kit.check_file(data, filename, {kit.BY_EXTENSION[claimed]})
    except kit.UploadRejected as exc:
        raise problem("upload_type", exc.detail) from exc


async def check_upload(filename: str, data: bytes, allowed: frozenset[str]) -> str:
    """``check_type`` in a worker thread; the file's extension as stored ("jpg" for a .jpeg)."""
    return (await asyncio.to_thread(check_type, filename, data, allowed)).extension


async def read_limited(chunks: AsyncIterator[bytes], max_bytes: int) -> bytes:
    """The body, refused with 413 ``upload_too_large`` as soon as it passes ``max_bytes``."""
    out = bytearray()
    async for chunk in chunks:
        out += chunk
        if len(out) > max_bytes:
            raise problem("upload_too_large", f"Files are at most {max_bytes} bytes.")
    return bytes(out)


class FileStore:
    """Files on disk addressed by their content (sha256): one copy per content, written once (a name of
    its own per writer, then renamed), read back by digest. Studio files and the community's shared
    resources each use one (their own root)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def digest(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    def path(self, digest: str) -> Path:
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise ValueError("not a sha256 digest")
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        digest = self.digest(data)
        path = self.path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # a name of its own per writer: two writers of the same content must not share a temporary file
            tmp = path.with_name(f"{digest}.{uuid.uuid4().hex}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        return digest

    def get(self, digest: str) -> bytes | None:
        """The content, or None when it is not stored (or ``digest`` is not a sha256 digest)."""
        try:
            path = self.path(digest)
        except ValueError:
            return None
        return path.read_bytes() if path.exists() else None
