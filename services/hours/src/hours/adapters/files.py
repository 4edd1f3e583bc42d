"""Attachments (declaration evidence, sealed proofs) on disk under a configured folder.
Only PDF and images that open cleanly (``jijiao_kit.uploads``), within a size limit."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path

from jijiao_kit.errors import InvalidInput
from jijiao_kit.uploads import PDF_OR_IMAGE, UploadRejected, check_upload


@dataclass(frozen=True)
class StoredFile:
    id: str
    filename: str
    content_type: str
    size: int

    def as_doc(self) -> dict[str, object]:
        return {"id": self.id, "filename": self.filename, "content_type": self.content_type, "size": self.size}


class FileStore:
    def __init__(self, root: Path, *, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    async def check(self, filename: str, data: bytes) -> str:
        """The file's media type, checked by its whole structure (``jijiao_kit.uploads``)."""
        if not data:
            raise InvalidInput(f"{filename} is empty.", code="empty_file", title="上传的文件为空")
        if len(data) > self.max_bytes:
            raise InvalidInput(
                f"{filename} is larger than {self.max_bytes} bytes.",
                code="file_too_large",
                title="文件过大",
                extra={"max_bytes": self.max_bytes},
            )
        try:
            return (await check_upload(data, filename, PDF_OR_IMAGE)).media_type
        except UploadRejected as exc:
            if exc.code == "file_type_not_allowed":
                exc.title = "只能上传 PDF 或图片(PNG、JPEG)文件"
            raise

    async def save(self, filename: str, data: bytes) -> StoredFile:
        return await self.store(filename, data, await self.check(filename, data))

    async def store(self, filename: str, data: bytes, content_type: str) -> StoredFile:
        """Write a file ``check`` accepted (as ``content_type``)."""
        file_id = uuid.uuid4().hex
        path = self.path(file_id)
        await asyncio.to_thread(self._write, path, data)
        return StoredFile(file_id, Path(filename).name[:200] or "file", content_type, len(data))

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)

    def path(self, file_id: str) -> Path:
        if not file_id.isalnum():
            raise InvalidInput("Bad file id.", code="bad_file_id")
        return self.root / file_id[:2] / file_id

    def read(self, file_id: str) -> bytes | None:
        path = self.path(file_id)
        return path.read_bytes() if path.exists() else None
