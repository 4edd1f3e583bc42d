"""Every studio operation, fuzzed from its OpenAPI document with valid and invalid requests
(schemathesis): never a 5xx, every 4xx a problem document (DESIGN.md rule 8). See ``jijiao_stack.fuzzing``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI

from jijiao_stack.fuzzing import InProcessApi, fuzz_schema, openapi_document, serving
from jijiao_stack.pytest_plugin import bearer
from studio.bootstrap import build
from studio.entrypoints.api.app import create_app as create_api
from studio.settings import Settings

HOST = "2026000001"
schema = fuzz_schema(
    openapi_document(lambda keys: create_api(build(Settings(keys_dir=keys)))),
    known={"path.ce_number": [HOST], "body.host_ce_number": [HOST]},
)


@pytest.fixture(scope="module")
def api(module_settings_env: dict[str, Any]) -> Iterator[InProcessApi]:
    async def make() -> FastAPI:
        container = build(Settings(**module_settings_env))
        await container.directory.record(
            HOST,
            {"name": "陈晓明", "school_id": "s1", "school_name": "一小", "district": "天河区"},
            datetime.now(UTC),
        )
        return create_api(container)

    with serving(make) as served:
        yield served


@schema.parametrize()
def test_bad_input_gets_a_problem_never_a_500(
    case: schemathesis.Case[Any], api: InProcessApi, make_token: Callable[..., str]
) -> None:
    api.check(case, bearer(make_token("city_admin")))
