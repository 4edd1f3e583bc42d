"""How a points fact is stored in its account document: one compact JSON string per fact key.

The embedded store's cost of reading or updating a document grows with its number of JSON nodes (every
sub-document goes through its decoder hooks and id conversion), and an account holds every fact of its
year. A fact as a sub-document of nine fields (with a date) made the account reads and updates of the
points path several times slower than one string per fact. The label and the capped part are derived
when read; accounts written before keep their facts as sub-documents and read the same."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from jijiao_kit.timeutil import as_utc, epoch_ms

Doc = dict[str, Any]


def encode(fact: Mapping[str, Any]) -> str:
    """``fact``: rule, reference, source, at (datetime), requested, points, reason."""
    at = as_utc(fact["at"]) or datetime.now(UTC)
    row = [fact["rule"], fact["reference"], fact["source"], epoch_ms(at), fact["requested"], fact["points"]]
    row.append(fact.get("reason"))
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


def decode(stored: Any, labels: Mapping[str, str]) -> Doc:
    """The fact as the API shows it (rule, label, reference, source, requested, points, capped, reason, at)."""
    if isinstance(stored, dict):  # written before facts were strings
        return dict(stored)
    rule, reference, source, at_ms, requested, points, reason = json.loads(stored)
    return {
        "rule": rule,
        "label": labels.get(rule, rule),
        "reference": reference,
        "source": source,
        "requested": requested,
        "points": points,
        "capped": requested - points,
        "reason": reason,
        "at": datetime.fromtimestamp(at_ms / 1000, tz=UTC),
    }
