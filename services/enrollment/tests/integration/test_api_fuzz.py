"""Every enrollment operation, fuzzed from its OpenAPI document with valid and invalid requests
(schemathesis): never a 5xx, every 4xx a problem document (DESIGN.md rule 8). See ``jijiao_stack.fuzzing``.

A term with its selection window open, a school, a teacher and a course are seeded, and most generated
cases name them, so the fuzzing reaches the use cases behind "not found"."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI

from enrollment.bootstrap import build
from enrollment.entrypoints.api.app import create_app
from enrollment.settings import Settings
from jijiao_kit.clock import FixedClock
from jijiao_stack.fuzzing import InProcessApi, fuzz_schema, openapi_document, serving
from jijiao_stack.pytest_plugin import bearer

sys.path.insert(0, str(Path(__file__).parent))
from seeded_documents import NOW, add_course, add_school, add_teacher, add_term

TERM, SCHOOL, TEACHER, COURSE = "2602", "fz-s1", "20269999", "C1"
schema = fuzz_schema(
    openapi_document(lambda keys: create_app(build(Settings(keys_dir=keys)))),
    known={
        "path.term": [TERM],
        "path.school_id": [SCHOOL],
        "query.school_id": [SCHOOL],
        "body.school_id": [SCHOOL],
        "path.ce_number": [TEACHER],
        "query.ce_number": [TEACHER],
        "body.ce_number": [TEACHER],
        "path.code": [COURSE],
        "path.course_code": [COURSE],
        "query.course_code": [COURSE],
        "body.course_code": [COURSE],
    },
)


@pytest.fixture(scope="module")
def api(module_settings_env: dict[str, Any]) -> Iterator[InProcessApi]:
    async def make() -> FastAPI:
        container = build(Settings(**module_settings_env, step_up_required=False), clock=FixedClock(NOW))
        db = container.infra.db
        school = await add_school(db, SCHOOL)
        await db["schools"].delete_one({"_id": SCHOOL})  # the seeded shape lacks what the roster API reads
        await db["schools"].insert_one({**school, "created_at": NOW})
        await add_teacher(db, TEACHER, school)
        await add_term(db, TERM, closes_at=NOW + timedelta(days=5), payment_due_at=NOW + timedelta(days=20))
        await add_course(db, TERM, COURSE)
        return create_app(container)

    with serving(make) as served:
        yield served


@schema.parametrize()
def test_bad_input_gets_a_problem_never_a_500(
    case: schemathesis.Case[Any], api: InProcessApi, make_token: Callable[..., str]
) -> None:
    api.check(case, bearer(make_token("city_admin")))
