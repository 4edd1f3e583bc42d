"""Events produced by the notify service."""

from __future__ import annotations

PRODUCER = "notify"
