"""Times in and out of the store.

The embedded store (nx-27017 0.8.1) keeps a datetime written by ``insert_one`` as a date, but a
datetime written by ``$set`` on an existing document as a naive string ("2026-11-22 11:03:06.279000",
UTC). So: anything the code compares or sorts on is stored as epoch milliseconds (``epoch_ms``), and
every datetime read back goes through ``as_utc`` (or the ``UtcDateTime`` type in response models)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field


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


#: Years an API accepts in a date or datetime. Python's datetimes end at years 1 and 9999, so an
#: offset near either end (``0001-01-01T00:00:00+01:00``) overflows on conversion to UTC (a 500);
#: nothing in continuing education lies outside these years.
MIN_YEAR, MAX_YEAR = 1900, 2200


def _bounded_utc(value: datetime) -> datetime:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"the year must be between {MIN_YEAR} and {MAX_YEAR}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _bounded_date(value: date) -> date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"the year must be between {MIN_YEAR} and {MAX_YEAR}")
    return value


#: Marks a bounded date in the OpenAPI document (clients see the range; a test checks every input has it).
YEAR_RANGE_KEY = "x-year-range"
_YEARS = Field(json_schema_extra={YEAR_RANGE_KEY: [MIN_YEAR, MAX_YEAR]})
#: A datetime an API accepts: ISO 8601 with an offset, years ``MIN_YEAR``..``MAX_YEAR``, as aware UTC.
BoundedDateTime = Annotated[AwareDatetime, AfterValidator(_bounded_utc), _YEARS]
#: The same where a value without an offset has always been taken as UTC (and for stored values).
BoundedUtcDateTime = Annotated[datetime, AfterValidator(_bounded_utc), _YEARS]
#: A date an API accepts: years ``MIN_YEAR``..``MAX_YEAR``.
BoundedDate = Annotated[date, AfterValidator(_bounded_date), _YEARS]
