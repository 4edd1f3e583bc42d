"""A private instance of the whole system for one benchmark: its own embedded store, ports and
prefix, started with the same launcher as ``make up`` and stopped afterwards."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from jijiao_stack.brokeradmin import delete_by_prefix_blocking
from jijiao_stack.processes import SERVICES, free_port
from jijiao_stack.system import System, SystemConfig

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def bench_system(extra_env: dict[str, str] | None = None, seed: bool = True) -> Iterator[System]:
    var_dir = Path(tempfile.mkdtemp(prefix="jijiao-bench-"))
    config = SystemConfig(
        root=ROOT,
        var_dir=var_dir,
        name_prefix=f"b{uuid.uuid4().hex[:8]}",
        ports={name: free_port() for name in SERVICES},
        mongodb_url=os.environ.get("MONGODB_URL") or None,
        store_port=free_port(),
        smtp_port=free_port(),
        extra_env={"LOG_LEVEL": "WARNING", **(extra_env or {})},
    )
    system = System(config)
    try:
        system.start(seed=seed, ready_seconds=120)
        yield system
    finally:
        system.stop()
        delete_by_prefix_blocking(config.rabbitmq_url, (f"{config.name_prefix}.",))
        shutil.rmtree(var_dir, ignore_errors=True)
