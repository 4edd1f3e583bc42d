"""What every service's HTTP side promises: health, readiness naming the failing dependency,
Prometheus metrics, OpenAPI with stable operation ids, and problem+json for malformed input."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI

from jijiao_stack.pytest_plugin import api_client, bearer

SERVICES = ["enrollment", "studio", "hours", "notify", "baseline"]
CLOSED_PORT_AMQP = "amqp://guest:guest@127.0.0.1:1/"


def build_app(service: str, settings_env: dict[str, Any], **overrides: Any) -> FastAPI:
    """The service's HTTP app from ``entrypoints/api/app.py`` (``create_app``) on a container built by
    its composition root. A service whose root still builds the app itself (``create_api``) is asked
    there, so a service moves to the shared shape on its own branch."""
    bootstrap = importlib.import_module(f"{service}.bootstrap")
    settings_module = importlib.import_module(f"{service}.settings")
    settings = settings_module.Settings(**{**settings_env, **overrides})
    container = bootstrap.build(settings)
    if hasattr(bootstrap, "create_api"):
        legacy: FastAPI = bootstrap.create_api(container)
        return legacy
    app: FastAPI = importlib.import_module(f"{service}.entrypoints.api.app").create_app(container)
    return app


@pytest.mark.parametrize("service", SERVICES)
async def test_health_ready_metrics_and_openapi(service: str, settings_env: dict[str, Any]) -> None:
    async with api_client(build_app(service, settings_env)) as client:
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
        await client.get("/v1/does-not-exist")
        metrics = await client.get("/metrics")
        openapi = await client.get("/openapi.json")
        docs = await client.get("/docs")
    assert health.status_code == 200
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"mongodb": "ok", "redis": "ok", "rabbitmq": "ok"}
    assert metrics.status_code == 200 and "http_requests_total" in metrics.text
    assert 'status="404"' in metrics.text
    assert docs.status_code == 200
    operation_ids = [op["operationId"] for path in openapi.json()["paths"].values() for op in path.values()]
    assert {"healthz", "readyz", "metrics"} <= set(operation_ids)
    assert len(operation_ids) == len(set(operation_ids))


@pytest.mark.parametrize("service", SERVICES)
async def test_readyz_is_503_naming_rabbitmq_when_it_is_unreachable(service: str, settings_env: dict[str, Any]) -> None:
    async with api_client(build_app(service, settings_env, rabbitmq_url=CLOSED_PORT_AMQP)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["rabbitmq"]


def json_body_operations(openapi: dict[str, Any]) -> list[tuple[str, str]]:
    operations = []
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                operations.append((method.upper(), path))
    return operations


def fill_path(path: str) -> str:
    return path.replace("{", "").replace("}", "")  # any value: validation runs before the lookup


@pytest.mark.parametrize("service", SERVICES)
async def test_malformed_json_and_wrong_types_are_problem_json_4xx_on_every_body_endpoint(
    service: str, settings_env: dict[str, Any], make_token: Callable[..., str]
) -> None:
    headers = {**bearer(make_token("city_admin")), "content-type": "application/json"}
    async with api_client(build_app(service, settings_env)) as client:
        openapi = (await client.get("/openapi.json")).json()
        operations = json_body_operations(openapi)
        assert operations, f"{service} has no JSON endpoint to check"
        for method, path in operations:
            url = fill_path(path)
            malformed = await client.request(method, url, content=b'{"broken": ', headers=headers)
            wrong_types = await client.request(method, url, content=b'{"hours": {"x": []}, "code": 5}', headers=headers)
            not_object = await client.request(method, url, content=b"[1, 2, 3]", headers=headers)
            for response in (malformed, wrong_types, not_object):
                assert 400 <= response.status_code < 500, (method, path, response.status_code, response.text)
                assert response.headers["content-type"].startswith("application/problem+json"), (method, path)
                body = response.json()
                assert body["code"] and body["title"] and body["detail"], body
            assert malformed.status_code == 400 and malformed.json()["code"] == "malformed_json", (method, path)


async def test_problem_titles_are_chinese_and_details_english(settings_env: dict[str, Any]) -> None:
    async with api_client(build_app("enrollment", settings_env)) as client:
        response = await client.post("/v1/auth/token", json={"login": "nobody", "password": "x"})
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "invalid_credentials"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["title"])
    assert body["detail"].isascii()
