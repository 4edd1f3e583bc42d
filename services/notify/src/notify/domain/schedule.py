"""When a notice may go out: quiet hours, retry backoff, rate windows. Pure functions of time."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def as_utc(value: datetime | str) -> datetime:
    """The store may hand datetimes back without tzinfo, or (after a top-level ``$set`` on the embedded
    store) as an ISO string; both are UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def epoch(value: datetime) -> float:
    """Times the store must compare are kept as epoch seconds: the embedded store keeps a datetime
    given to a top-level ``$set`` as a string, which no longer compares with datetimes."""
    return as_utc(value).timestamp()


def parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def in_quiet_hours(now: datetime, start: time, end: time, tz: ZoneInfo) -> bool:
    local = as_utc(now).astimezone(tz).time()
    if start == end:
        return False
    if start < end:  # e.g. 12:00–14:00
        return start <= local < end
    return local >= start or local < end  # e.g. 22:00–08:00, over midnight


def quiet_hours_end(now: datetime, start: time, end: time, tz: ZoneInfo) -> datetime | None:
    """When a non-urgent notice created at ``now`` may be sent: None if at once, else the end of quiet
    hours (in UTC)."""
    if not in_quiet_hours(now, start, end, tz):
        return None
    local = as_utc(now).astimezone(tz)
    candidate = datetime.combine(local.date(), end, tzinfo=tz)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate.astimezone(UTC)


@dataclass(frozen=True)
class QuietHours:
    """The quiet period (local ``start``–``end``, may span midnight) in which non-urgent notices wait.

    Every time a non-urgent notice is (re)scheduled, when it is created, deferred by the rate limit,
    given a retry or released from an expired lease, its due time goes through ``not_before``."""

    start: time
    end: time
    tz: ZoneInfo
    enabled: bool = True

    def not_before(self, at: datetime, *, urgent: bool = False) -> datetime:
        """When a notice due at ``at`` may go: ``at`` itself, or, for a non-urgent notice due in quiet
        hours, the end of them (UTC)."""
        if urgent or not self.enabled:
            return at
        return quiet_hours_end(at, self.start, self.end, self.tz) or at


def backoff_seconds(
    attempt: int, *, base: float, cap: float, jitter: float = 0.5, rng: random.Random | None = None
) -> float:
    """Delay before retry number ``attempt`` (1 = after the first failure): exponential, capped, with
    full-range jitter of ±``jitter`` of the delay, so retries of a burst do not come back together."""
    delay = min(cap, base * 2.0 ** max(attempt - 1, 0))
    spread = rng.uniform(-jitter, jitter) if rng is not None else random.uniform(-jitter, jitter)
    return max(0.0, delay * (1 + spread))


def local_day(now: datetime, tz: ZoneInfo) -> str:
    return as_utc(now).astimezone(tz).date().isoformat()
