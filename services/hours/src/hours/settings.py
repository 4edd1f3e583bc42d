from __future__ import annotations

from pathlib import Path

from pydantic import model_validator

from jijiao_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "hours"
    http_port: int = 8003
    #: Where declaration attachments and sealed proofs are stored.
    attachments_dir: Path = Path("var/hours/attachments")
    max_attachment_bytes: int = 5 * 1024 * 1024
    max_attachments: int = 5
    max_bulk_rows: int = 5000
    #: How often the worker checks for ended years whose points must expire, for December balances to
    #: announce before they expire, and for unfinished entries.
    expiry_interval_seconds: float = 3600.0
    repair_interval_seconds: float = 60.0
    #: Messages the worker applies together (bulk writes); 1 = one by one.
    consumer_batch_size: int = 500

    @model_validator(mode="after")
    def _prefetch_covers_two_batches(self) -> Settings:
        """Two batches in flight keep the next one filling while one is stored. Before kit 284ca3a the batch
        consumer's deliveries came on the broker's default channel (the kit declared the queue there and
        FastStream reused it), so this prefetch bounded every batch (32); kept so that either kit works."""
        if self.consumer_batch_size > 0:
            self.prefetch_count = max(self.prefetch_count, 2 * self.consumer_batch_size)
        return self
