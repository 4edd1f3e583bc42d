"""Issue 12 item 9: an oversized JSON body is a 413 before it is parsed (an anonymous 50 MB login body
was parsed whole), and every answer carries the security headers."""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from enrollment.bootstrap import build
from enrollment.entrypoints.api.app import create_app
from enrollment.settings import Settings
from jijiao_stack.pytest_plugin import api_client, bearer


@pytest.fixture
async def client(settings_env: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(create_app(build(Settings(**settings_env)))) as http:
        yield http


async def test_a_50_mb_login_body_is_refused_unread(client: httpx.AsyncClient) -> None:
    body = b'{"login": "2026000001", "password": "' + b"a" * (50 * 1024 * 1024) + b'"}'
    tracemalloc.start()
    try:
        response = await client.post("/v1/auth/token", content=body, headers={"Content-Type": "application/json"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "payload_too_large"
    assert peak < 10 * 1024 * 1024, f"the service allocated {peak} bytes for a refused body"


async def test_security_headers_and_no_store_on_authenticated_answers(
    client: httpx.AsyncClient, make_token: Any
) -> None:
    answer = await client.get("/v1/terms", headers=bearer(make_token("city_admin")))
    assert answer.status_code == 200
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["Cache-Control"] == "no-store"
