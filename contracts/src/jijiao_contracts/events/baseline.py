"""Events produced by the baseline service."""

from __future__ import annotations

PRODUCER = "baseline"
