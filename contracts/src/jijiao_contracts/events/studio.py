"""Events produced by the studio service (points facts for the points bank will live here)."""

from __future__ import annotations

PRODUCER = "studio"
