from datetime import UTC, datetime

from enrollment.domain.calendar import china_year


def test_the_year_turns_at_midnight_beijing_time() -> None:
    assert china_year(datetime(2026, 12, 31, 15, 59, tzinfo=UTC)) == 2026
    assert china_year(datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == 2027  # 00:00 on 1 January in Beijing
