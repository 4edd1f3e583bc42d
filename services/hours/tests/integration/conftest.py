"""Fixtures of the hours integration tests: a container on this test's infrastructure and a roster."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from hours.adapters import mongo
from hours.bootstrap import Container, build
from hours.entrypoints.api.app import create_app
from hours.settings import Settings
from jijiao_kit.clock import MovableClock
from jijiao_stack.pytest_plugin import api_client

ROSTER = {
    "2026000001": ("陈晓明", "s1", "一小", "天河区"),
    "2026000002": ("李静", "s1", "一小", "天河区"),
    "2026000003": ("王海燕", "s2", "华景中学", "天河区"),
    "2026000004": ("赵强", "s3", "越秀一中", "越秀区"),
}


@pytest.fixture
async def container(settings_env: dict[str, Any], tmp_path: Path) -> AsyncIterator[Container]:
    settings = Settings(**settings_env, step_up_required=False, attachments_dir=tmp_path / "files")
    container = build(settings, clock=MovableClock())
    await mongo.ensure_indexes(container.infra.db)
    for ce, (name, school, school_name, district) in ROSTER.items():
        await container.teachers.upsert(
            ce,
            {"name": name, "school_id": school, "school_name": school_name, "district": district},
            datetime(2026, 1, 1, tzinfo=UTC),
        )
    yield container
    await container.infra.close()


@pytest.fixture
async def client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(create_app(container)) as http:
        yield http


@pytest.fixture
def clock(container: Container) -> MovableClock:
    """The time of the whole service: the container is built with it (system time until set)."""
    assert isinstance(container.clock, MovableClock)
    return container.clock
