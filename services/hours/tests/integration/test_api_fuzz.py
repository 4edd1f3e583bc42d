"""Every hours operation, fuzzed from its OpenAPI document with valid and invalid requests
(schemathesis): never a 5xx, every 4xx a problem document (DESIGN.md rule 8). See ``jijiao_stack.fuzzing``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI

from hours.adapters import mongo
from hours.bootstrap import build
from hours.entrypoints.api.app import create_app
from hours.settings import Settings
from jijiao_stack.fuzzing import InProcessApi, fuzz_schema, openapi_document, serving
from jijiao_stack.pytest_plugin import bearer

TEACHER, SCHOOL, CYCLE = "2026000001", "s1", "c2026"
schema = fuzz_schema(
    openapi_document(lambda keys: create_app(build(Settings(keys_dir=keys)))),
    known={
        "path.ce_number": [TEACHER],
        "query.ce_number": [TEACHER],
        "body.ce_number": [TEACHER],
        "path.school_id": [SCHOOL],
        "query.school_id": [SCHOOL],
        "path.cycle_id": [CYCLE],
        "body.source": ["platform_course", "teaching_research", "school_based", "xuexi_qiangguo"],
        "body.rule": ["shared_resource", "activity_participation"],
    },
)


@pytest.fixture(scope="module")
def api(module_settings_env: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessApi]:
    async def make() -> FastAPI:
        settings = Settings(
            **module_settings_env, step_up_required=False, attachments_dir=tmp_path_factory.mktemp("hours-files")
        )
        container = build(settings)
        await mongo.ensure_indexes(container.infra.db)
        await container.teachers.upsert(
            TEACHER,
            {"name": "陈晓明", "school_id": SCHOOL, "school_name": "一小", "district": "天河区"},
            datetime(2026, 1, 1, tzinfo=UTC),
        )
        await container.verification.set_cycle(CYCLE, "2026-2028周期", 2026, 2028, "fuzz")
        return create_app(container)

    with serving(make) as served:
        yield served


@schema.parametrize()
def test_bad_input_gets_a_problem_never_a_500(
    case: schemathesis.Case[Any], api: InProcessApi, make_token: Callable[..., str]
) -> None:
    api.check(case, bearer(make_token("city_admin")))
