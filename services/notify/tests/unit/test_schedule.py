from __future__ import annotations

import random
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from notify.domain.schedule import (
    QuietHours,
    as_utc,
    backoff_seconds,
    epoch,
    in_quiet_hours,
    local_day,
    quiet_hours_end,
)

SH = ZoneInfo("Asia/Shanghai")
START, END = time(22, 0), time(8, 0)


def sh(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SH).astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (sh(21, 59), None),
        (sh(22, 0), sh(8, 0, day=11)),
        (sh(23, 30), sh(8, 0, day=11)),
        (sh(0, 5), sh(8, 0)),
        (sh(7, 59), sh(8, 0)),
        (sh(8, 0), None),
        (sh(12, 0), None),
    ],
)
def test_quiet_hours_defer_to_their_end(now: datetime, expected: datetime | None) -> None:
    assert quiet_hours_end(now, START, END, SH) == expected


def test_quiet_hours_within_a_day_and_disabled() -> None:
    assert in_quiet_hours(sh(13), time(12), time(14), SH)
    assert not in_quiet_hours(sh(14), time(12), time(14), SH)
    assert not in_quiet_hours(sh(23), time(0), time(0), SH)


def test_not_before_moves_only_non_urgent_times_in_quiet_hours() -> None:
    quiet = QuietHours(START, END, SH)
    assert quiet.not_before(sh(23, 30)) == sh(8, 0, day=11)
    assert quiet.not_before(sh(23, 30), urgent=True) == sh(23, 30)
    assert quiet.not_before(sh(21, 59)) == sh(21, 59)
    assert QuietHours(START, END, SH, enabled=False).not_before(sh(23, 30)) == sh(23, 30)


def test_backoff_grows_exponentially_is_capped_and_jittered() -> None:
    flat = [backoff_seconds(n, base=2, cap=60, jitter=0) for n in range(1, 8)]
    assert flat == [2, 4, 8, 16, 32, 60, 60]
    rng = random.Random(7)
    samples = [backoff_seconds(3, base=2, cap=60, rng=rng) for _ in range(200)]
    assert all(4 <= s <= 12 for s in samples)
    assert len({round(s, 3) for s in samples}) > 100


def test_naive_datetimes_are_utc_and_local_day() -> None:
    naive = datetime(2026, 3, 10, 17, 0)
    assert as_utc(naive) == datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
    assert local_day(naive, SH) == "2026-03-11"
    assert epoch(naive) == epoch(naive.replace(tzinfo=UTC)) == 1773162000.0
    assert as_utc("2026-03-10 17:00:00.000000") == as_utc(naive)  # the store's $set form
