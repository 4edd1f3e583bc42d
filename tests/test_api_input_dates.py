"""Issue 12 item 8: every date and datetime any API accepts (bodies, query, path, of every service's
OpenAPI document) is one of the kit's bounded types (years 1900..2200), so edge values such as
``0001-01-01T00:00:00+01:00`` are a 422, never an OverflowError. New inputs are covered without
changing this test."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jijiao_kit.timeutil import MAX_YEAR, MIN_YEAR, YEAR_RANGE_KEY

SERVICES = ("enrollment", "studio", "hours", "notify", "baseline")


def _inputs(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, schema) of every date or date-time an operation accepts."""
    schemas = doc.get("components", {}).get("schemas", {})

    def walk(schema: Any, where: str, seen: frozenset[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        if not isinstance(schema, dict):
            return
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                yield from walk(schemas[name], f"{where}<{name}>", seen | {name})
            return
        if schema.get("format") in ("date", "date-time"):
            yield where, schema
        for name, sub in schema.get("properties", {}).items():
            yield from walk(sub, f"{where}.{name}", seen)
        for key in ("items", "additionalProperties"):
            yield from walk(schema.get(key), f"{where}[]", seen)
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in schema.get(key, []):
                yield from walk(sub, where, seen)

    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                yield from walk(parameter.get("schema"), f"{method.upper()} {path} ?{parameter['name']}", frozenset())
            for content in operation.get("requestBody", {}).get("content", {}).values():
                yield from walk(content.get("schema"), f"{method.upper()} {path} body", frozenset())


@pytest.mark.parametrize("service", SERVICES)
def test_every_date_an_api_accepts_is_bounded(service: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KEYS_DIR", str(tmp_path))
    app = importlib.import_module(f"{service}.entrypoints.api.app").app
    unbounded = [where for where, schema in _inputs(app.openapi()) if YEAR_RANGE_KEY not in schema]
    assert not unbounded, f"use jijiao_kit.timeutil.BoundedDate/BoundedDateTime for: {unbounded}"


def test_the_bounded_types_refuse_years_past_the_range() -> None:
    from datetime import UTC, date, datetime

    from pydantic import TypeAdapter, ValidationError

    from jijiao_kit.timeutil import BoundedDate, BoundedDateTime, BoundedUtcDateTime

    aware, lenient, day = TypeAdapter(BoundedDateTime), TypeAdapter(BoundedUtcDateTime), TypeAdapter(BoundedDate)
    for edge in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00", "1899-12-31T23:59:59+00:00"):
        for adapter in (aware, lenient):
            with pytest.raises(ValidationError):
                adapter.validate_python(edge)
    for edge_day in ("0001-01-01", "9999-12-31", "2201-01-01"):
        with pytest.raises(ValidationError):
            day.validate_python(edge_day)
    assert aware.validate_python("2026-09-01T08:00:00+08:00") == datetime(2026, 9, 1, tzinfo=UTC)
    assert aware.validate_python("2026-09-01T08:00:00+08:00").tzinfo is UTC
    assert lenient.validate_python("2026-09-01T08:00:00") == datetime(2026, 9, 1, 8, tzinfo=UTC)
    with pytest.raises(ValidationError):
        aware.validate_python("2026-09-01T08:00:00")  # an offset is required
    assert day.validate_python(f"{MIN_YEAR}-01-01") == date(MIN_YEAR, 1, 1)
    assert day.validate_python(f"{MAX_YEAR}-12-31") == date(MAX_YEAR, 12, 31)
