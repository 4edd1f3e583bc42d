"""Year totals of a teacher's hours bank."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jijiao_contracts.enums import HourCategory


@dataclass(frozen=True)
class YearTotals:
    public: float = 0.0
    professional: float = 0.0
    elective: float = 0.0
    carried_in: float = 0.0

    @property
    def total(self) -> float:
        return self.public + self.professional + self.elective


def year_totals(entries: Iterable[dict[str, Any]], carried_in: float = 0.0) -> YearTotals:
    """Sum credited hours per category; carried-in professional hours count as professional."""
    sums = {category: 0.0 for category in HourCategory}
    for entry in entries:
        sums[HourCategory(entry["category"])] += float(entry.get("credited", 0.0))
    return YearTotals(
        public=sums[HourCategory.PUBLIC],
        professional=sums[HourCategory.PROFESSIONAL] + carried_in,
        elective=sums[HourCategory.ELECTIVE],
        carried_in=carried_in,
    )
