"""Events produced by the studio service."""

from __future__ import annotations

PRODUCER = "studio"
