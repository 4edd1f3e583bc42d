"""The city's calendar: years, days and deadlines are Beijing time (Asia/Shanghai), whatever the
servers' zone. Pure."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def china_year(moment: datetime) -> int:
    """The calendar year in Beijing at ``moment`` (1 January starts at 16:00 UTC the day before)."""
    return moment.astimezone(CHINA).year
