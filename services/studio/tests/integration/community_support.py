"""Shared set-up of the community tests: a container on a fixed clock and the points facts it wrote."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jijiao_kit.auth import Principal
from jijiao_kit.clock import FixedClock
from jijiao_stack import samples
from studio.adapters import mongo
from studio.adapters.community import OUTBOX_COLLECTIONS
from studio.bootstrap import Container, build
from studio.service_layer.community import NewWorkshop
from studio.settings import Settings

T0 = datetime(2026, 5, 11, 8, tzinfo=UTC)
CENTRE = Principal(subject="centre", roles=frozenset({"remote_centre"}))
PDF = samples.pdf()


def teacher(ce: str) -> Principal:
    return Principal(subject=f"t{ce}", roles=frozenset({"teacher"}), scopes={"ce_number": ce})


def pdf(n: int | str) -> bytes:
    """A distinct small PDF per ``n``."""
    return samples.pdf(f"{n}")


async def community(settings_env: dict[str, Any], tmp_path: Path, **settings: Any) -> Container:
    """A container on its own store prefix; ``settings`` override the defaults (limits, rates)."""
    env = {**settings_env, "community_files_dir": tmp_path / "files", **settings}
    container = build(Settings(**env), clock=FixedClock(T0))
    await mongo.ensure_indexes(container.infra.db)
    return container


async def facts(container: Container, rule: str | None = None) -> list[dict[str, Any]]:
    """Every PointsFactRecorded waiting in the community's outboxes (no relay runs in these tests)."""
    out = []
    for name in (*OUTBOX_COLLECTIONS, mongo.ACTIVITIES):
        async for doc in container.infra.db[name].find({}, {"outbox": 1}):
            for entry in (doc.get("outbox") or {}).values():
                body = json.loads(entry["body"])
                if body["type"] == "studio.points_fact_recorded" and (rule is None or body["payload"]["rule"] == rule):
                    out.append(body["payload"])
    return out


async def approved_workshop(container: Container, host: str = "9001", name: str = "小学语文研修坊") -> str:
    svc = container.community
    doc = await svc.apply_workshop(teacher(host), NewWorkshop(name, "<p>读写结合</p>", "语文", "小学"))
    await svc.decide_workshop(CENTRE, doc["_id"], True, None)
    return str(doc["_id"])
