"""Each worker documents what it consumes and publishes as AsyncAPI (generated, not hand-written)."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest

SERVICES = ["enrollment", "studio", "hours", "notify", "baseline"]


@pytest.mark.parametrize("service", SERVICES)
def test_worker_asyncapi_lists_its_queue_and_its_events(service: str, settings_env: dict[str, Any]) -> None:
    settings = importlib.import_module(f"{service}.settings").Settings(**settings_env)
    worker = importlib.import_module(f"{service}.entrypoints.worker").create_worker(
        importlib.import_module(f"{service}.bootstrap").build(settings)
        if service != "notify"
        else importlib.import_module("notify.entrypoints.worker").worker_container(settings)
    )
    document = json.loads(worker.asyncapi_json())
    assert document["asyncapi"].startswith("3.")
    channels = json.dumps(document["channels"])
    if worker.routing_keys:
        assert f"{settings.name_prefix}.{service}" in channels
    produced = [key for key in document["channels"] if key.startswith(f"{service}.")]
    if service in ("enrollment", "hours", "notify"):
        assert produced, f"{service} documents no published event"
