"""Hours are kept as integer hundredths inside the service so that caps compare exactly."""

from __future__ import annotations

SCALE = 100


def to_units(hours: float) -> int:
    return round(hours * SCALE)


def to_hours(units: int) -> float:
    return units / SCALE
