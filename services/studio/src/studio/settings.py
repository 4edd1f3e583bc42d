from __future__ import annotations

from pathlib import Path

from limits import parse
from pydantic import field_validator

from jijiao_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "studio"
    http_port: int = 8002
    #: Base of the links a QR code carries to the mobile pages.
    public_base_url: str = "http://127.0.0.1:8002"
    #: How long a check-in QR code's token stays valid (the host shows a fresh one on site).
    checkin_ttl_seconds: int = 900
    #: Key that signs check-in tokens; created once in ``keys_dir`` when absent.
    checkin_key_file: Path | None = None
    #: Where uploaded files are kept (by content hash) and the largest accepted file.
    files_dir: Path = Path("var/studio-files")
    max_upload_bytes: int = 20 * 1024 * 1024

    #: Where the research community's shared files are kept (one copy per content fingerprint).
    community_files_dir: Path = Path("var/studio/community")
    max_document_bytes: int = 20 * 1024 * 1024
    max_video_bytes: int = 200 * 1024 * 1024
    #: Rate limits of each teacher's community writes (``limits`` strings: "30/hour", "10 per minute").
    community_upload_rate: str = "30/hour"
    community_topic_rate: str = "30/hour"
    community_post_rate: str = "120/hour"
    community_rating_rate: str = "300/hour"
    community_join_rate: str = "60/hour"

    @field_validator(
        "community_upload_rate",
        "community_topic_rate",
        "community_post_rate",
        "community_rating_rate",
        "community_join_rate",
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        parse(value)  # a ValueError at start, not a 500 at the first write
        return value

    def community_upload_body_bytes(self) -> int:
        """The body limit of a community upload (the largest file and the form's other fields)."""
        return max(self.max_document_bytes, self.max_video_bytes) + 1024 * 1024

    def checkin_key_path(self) -> Path:
        return self.checkin_key_file or self.keys_dir / "studio-checkin.key"
