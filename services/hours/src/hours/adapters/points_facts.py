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
#: What a fact was for (PointsFactRecorded's optional fields), shown on the teacher's points page.
ABOUT = ("title", "workshop_id", "workshop_name")


def encode(fact: Mapping[str, Any]) -> str:
    """``fact``: rule, reference, source, at (datetime), requested, points, reason, and optionally ``about``
    (what the fact was for: title, workshop_id, workshop_name, as the producer named them)."""
    at = as_utc(fact["at"]) or datetime.now(UTC)
    row = [fact["rule"], fact["reference"], fact["source"], epoch_ms(at), fact["requested"], fact["points"]]
    row.append(fact.get("reason"))
    about = {k: v for k, v in (fact.get("about") or {}).items() if k in ABOUT and v is not None}
    if about:
        row.append(about)
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


def decode(stored: Any, labels: Mapping[str, str]) -> Doc:
    """The fact as the API shows it (rule, label, reference, source, requested, points, capped, reason, at,
    and title / workshop_id / workshop_name when the producer said what it was for)."""
    if isinstance(stored, dict):  # written before facts were strings
        return dict(stored)
    rule, reference, source, at_ms, requested, points, reason, *rest = json.loads(stored)
    about = rest[0] if rest and isinstance(rest[0], dict) else {}
    return {
        **{k: about.get(k) for k in ABOUT},
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
