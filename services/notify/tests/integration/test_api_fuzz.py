"""Every notify operation, fuzzed from its OpenAPI document with valid and invalid requests
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
from notify.bootstrap import build
from notify.entrypoints.api.app import create_app
from notify.settings import Settings

ADMIN = "account:city-fuzz"
schema = fuzz_schema(openapi_document(lambda keys: create_app(build(Settings(keys_dir=keys)))))


@pytest.fixture(scope="module")
def api(module_settings_env: dict[str, Any]) -> Iterator[InProcessApi]:
    async def make() -> FastAPI:
        container = build(Settings(**module_settings_env))
        await container.contacts.upsert(
            ADMIN,
            {"kind": "admin", "name": "市继教中心管理员", "mobile": "13800000000", "roles": ["city_admin"]},
            datetime(2026, 1, 1, tzinfo=UTC),
        )
        return create_app(container)

    with serving(make) as served:
        yield served


@schema.parametrize()
def test_bad_input_gets_a_problem_never_a_500(
    case: schemathesis.Case[Any], api: InProcessApi, make_token: Callable[..., str]
) -> None:
    api.check(case, bearer(make_token("city_admin", subject=ADMIN)))
