"""Times in and out of the store.

The embedded store (nx-27017 0.8.1) keeps a datetime written by ``insert_one`` as a date, but a
datetime written by ``$set`` on an existing document as a naive string ("2026-11-22 11:03:06.279000",
UTC). So: anything the code compares or sorts on is stored as epoch milliseconds (``epoch_ms``), and
every datetime read back goes through ``as_utc`` (or the ``UtcDateTime`` type in response models)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator


def as_utc(value: Any) -> datetime | None:
    """A stored time (datetime, naive datetime, ISO/space-separated string or epoch ms) as aware UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, str):
        return as_utc(datetime.fromisoformat(value))
    raise TypeError(f"not a time: {value!r}")


def epoch_ms(value: datetime) -> int:
    """Milliseconds since the epoch: the form to store for comparisons and sorting."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return int(aware.timestamp() * 1000)


def _ensure_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


#: A datetime that is always timezone-aware in API output (naive values are UTC).
UtcDateTime = Annotated[datetime, AfterValidator(_ensure_utc)]
