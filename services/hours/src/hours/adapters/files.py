"""Attachments (declaration evidence, sealed proofs) on disk under a configured folder.
Only PDF and images, recognised by their first bytes, and within a size limit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from jijiao_kit.errors import InvalidInput

SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}


@dataclass(frozen=True)
class StoredFile:
    id: str
    filename: str
    content_type: str
    size: int

    def as_doc(self) -> dict[str, object]:
        return {"id": self.id, "filename": self.filename, "content_type": self.content_type, "size": self.size}


def sniff(data: bytes) -> str | None:
    for signature, content_type in SIGNATURES.items():
        if data.startswith(signature):
            return content_type
    return None


class FileStore:
    def __init__(self, root: Path, *, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def check(self, filename: str, data: bytes) -> str:
        if not data:
            raise InvalidInput(f"{filename} is empty.", code="empty_file", title="上传的文件为空")
        if len(data) > self.max_bytes:
            raise InvalidInput(
                f"{filename} is larger than {self.max_bytes} bytes.",
                code="file_too_large",
                title="文件过大",
                extra={"max_bytes": self.max_bytes},
            )
        content_type = sniff(data)
        if content_type is None:
            raise InvalidInput(
                f"{filename} is not a PDF, PNG or JPEG file.",
                code="file_type_not_allowed",
                title="只能上传 PDF 或图片(PNG、JPEG)文件",
            )
        return content_type

    def save(self, filename: str, data: bytes) -> StoredFile:
        content_type = self.check(filename, data)
        file_id = uuid.uuid4().hex
        path = self.path(file_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        return StoredFile(file_id, Path(filename).name[:200] or "file", content_type, len(data))

    def path(self, file_id: str) -> Path:
        if not file_id.isalnum():
            raise InvalidInput("Bad file id.", code="bad_file_id")
        return self.root / file_id[:2] / file_id

    def read(self, file_id: str) -> bytes | None:
        path = self.path(file_id)
        return path.read_bytes() if path.exists() else None
