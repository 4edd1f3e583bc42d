"""A store outage answers 503 problem+json with Retry-After within a few seconds, on a connection the
client keeps (issue 16: it answered 500 ``internal_error`` and dropped keep-alive connections)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import APIRouter, FastAPI

from jijiao_kit.http import create_app
from jijiao_kit.mongo import create_client
from jijiao_stack.processes import free_port


def outage_app(server_selection_ms: int) -> FastAPI:
    """An API whose store is down: nothing listens on the store's port."""
    store = create_client(f"mongodb://127.0.0.1:{free_port()}", server_selection_ms=server_selection_ms)
    router = APIRouter()

    @router.post("/things")
    async def add_thing() -> dict[str, Any]:
        await store["outage"]["things"].insert_one({"name": "x"})
        return {"ok": True}

    return create_app(title="outage", description="store down", routers=[router], readiness=lambda app: {})


@pytest.fixture
async def served() -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(outage_app(300), host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


def local_port(response: httpx.Response) -> int:
    stream = response.extensions["network_stream"]
    return int(stream.get_extra_info("socket").getsockname()[1])


async def test_store_outage_answers_503_with_retry_after_and_keeps_the_connection(served: str) -> None:
    async with httpx.AsyncClient(base_url=served, timeout=10) as client:
        started = time.monotonic()
        first = await client.post("/things")
        elapsed = time.monotonic() - started
        first_port = local_port(first)
        second = await client.post("/things")
        second_port = local_port(second)
    assert first.status_code == 503, first.text
    assert first.headers["content-type"].startswith("application/problem+json")
    assert first.headers["retry-after"] == "5"
    assert first.json()["code"] == "store_unavailable"
    assert first.json()["title"] == "系统暂时不可用，请稍后再试"
    assert elapsed < 3
    assert second.status_code == 503
    assert first_port == second_port, "the client's keep-alive connection was dropped"
