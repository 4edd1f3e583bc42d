"""Events produced by the hours service."""

from __future__ import annotations

PRODUCER = "hours"
