"""The access matrix (issue 12 item 12), generated from each service's own OpenAPI document.

Two scopes are seeded alike: district A (天河区) with school A and teacher A, district B (越秀区) with
school B and teacher B (plus an admin account and a transfer application in each where the service has
them). Every operation with a scoped object in its path (a school, a teacher, a district, an account, a
transfer, ...) is called for the object of one scope by every caller that must not reach it: nobody
(no token), and the teacher, the principal, the school admin and the district admin of the OTHER scope.
The answer must be 401/403/404 (401 without a token), and its body must hold nothing of the object
(names, ID number, mobile, username). Operations that take a scoped object only as a query filter may
also answer 2xx, with nothing of the other scope in the body.

A new endpoint is covered without touching this file: its parameters are looked up in ``SCOPED`` (per
scope) and ``NEUTRAL`` (the same for every caller); a scoped parameter missing from ``SCOPED`` fails the
``test_every_object_parameter_is_known`` check, so the table grows with the API."""

from __future__ import annotations

import importlib
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from enrollment.bootstrap import build as build_enrollment
from enrollment.domain.identity import check_digit
from enrollment.entrypoints.api.app import create_app as create_enrollment_api
from enrollment.settings import Settings as EnrollmentSettings
from hours.bootstrap import build as build_hours
from hours.entrypoints.api.app import create_app as create_hours_api
from hours.settings import Settings as HoursSettings
from jijiao_stack.pytest_plugin import api_client, bearer

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# Path and query parameters that name an object with an owner scope (school, district or teacher).
OBJECT_PARAMETERS = {
    "school_id",
    "ce_number",
    "district",
    "account_id",
    "transfer_id",
    "bill_id",
    "selection_id",
    "retake_id",
    "application_id",
    "declaration_id",
    "attachment_id",
    "cycle_id",
    "complaint_id",
    "studio_id",
    "zone_id",
    "verification_id",
    "id_number",
    # studio, the research community and baseline
    "activity_id",
    "assignment_id",
    "assistant_id",
    "batch_id",
    "bulletin_id",
    "demand_id",
    "file_id",
    "image_id",
    "indicator_id",
    "log_id",
    "post_id",
    "recruitment_id",
    "reflection_id",
    "resource_id",
    "stage_id",
    "task_id",
    "topic_id",
    "trainee_id",
    "workshop_id",
}
# Parameters that are no one's object: the same value for every caller.
NEUTRAL: dict[str, Any] = {
    "term": "2602",
    "year": 2026,
    "code": "2602100001",
    "course_code": "2602100001",
    "announcement_id": "none",
    "period": "2026",
    "part": "p1",
    "kind": "png",
}
OK_STATUSES = {401, 403, 404}


@dataclass
class Scope:
    district: str
    school_id: str = ""
    school_name: str = ""
    ce_number: str = ""
    teacher_name: str = ""
    id_number: str = ""
    mobile: str = ""
    account_id: str = ""
    username: str = ""
    transfer_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def value(self, name: str) -> str | None:
        own = {
            "school_id": self.school_id,
            "ce_number": self.ce_number,
            "district": self.district,
            "account_id": self.account_id,
            "transfer_id": self.transfer_id,
            "id_number": self.id_number,
        }
        if own.get(name):
            return own[name]
        if name in OBJECT_PARAMETERS:  # an object kind this service has that was not seeded: an unknown id
            return self.extra.setdefault(name, f"u{uuid.uuid4().hex[:12]}")
        return None

    def secrets(self) -> list[str]:
        return [s for s in (self.teacher_name, self.id_number, self.school_name, self.username) if s]

    def outsiders(self, make_token: Callable[..., str]) -> dict[str, dict[str, str]]:
        """Every caller of THIS scope (they must not reach the other scope's objects)."""
        teacher = {"ce_number": self.ce_number, "school_id": self.school_id, "district": self.district}
        return {
            "anonymous": {},
            "teacher": bearer(make_token("teacher", subject=f"teacher:{self.ce_number}", **teacher)),
            "principal": bearer(make_token("teacher", "principal", subject=f"teacher:{self.ce_number}", **teacher)),
            "school_admin": bearer(
                make_token("school_admin", school_id=self.school_id, district=self.district, subject="account:sa")
            ),
            "district_admin": bearer(make_token("district_admin", district=self.district, subject="account:da")),
        }


def id_number(serial: int) -> str:
    first = f"44010619850101{serial:03d}"
    return first + check_digit(first)


async def seed_enrollment(client: httpx.AsyncClient, city: dict[str, str], scope: Scope, serial: int) -> None:
    school = await client.post(
        "/v1/schools",
        json={
            "name": f"矩阵学校{serial}",
            "school_type": "小学",
            "seal_name": f"广州市矩阵学校{serial}",
            "town": "某街道",
            "nature": "公办",
            "head_name": "林校长",
            "head_mobile": "13800000010",
            "district": scope.district,
        },
        headers=city,
    )
    assert school.status_code == 201, school.text
    scope.school_id, scope.school_name = school.json()["id"], f"矩阵学校{serial}"
    admin = bearer_for_school(scope)
    scope.teacher_name, scope.id_number, scope.mobile = f"矩阵教师{serial}", id_number(serial), f"1390000{serial:04d}"
    teacher = await client.post(
        f"/v1/schools/{scope.school_id}/teachers",
        json={"name": scope.teacher_name, "id_number": scope.id_number, "mobile": scope.mobile},
        headers=admin,
    )
    assert teacher.status_code == 201, teacher.text
    scope.ce_number = teacher.json()["ce_number"]
    scope.username = f"matrix{serial}"
    account = await client.post(
        f"/v1/schools/{scope.school_id}/admins",
        json={
            "username": scope.username,
            "name": f"矩阵管理员{serial}",
            "mobile": "13800000311",
            "password": "Matrix2026x",
        },
        headers=admin,
    )
    assert account.status_code == 201, account.text
    scope.account_id = account.json()["id"]
    # a transfer into this scope's school of a second teacher of the same district
    other_school = await client.post(
        "/v1/schools",
        json={
            "name": f"矩阵二校{serial}",
            "school_type": "小学",
            "seal_name": f"广州市矩阵二校{serial}",
            "town": "某街道",
            "nature": "公办",
            "head_name": "林校长",
            "head_mobile": "13800000010",
            "district": scope.district,
        },
        headers=city,
    )
    moving = await client.post(
        f"/v1/schools/{other_school.json()['id']}/teachers",
        json={"name": f"调动教师{serial}", "id_number": id_number(serial + 500), "mobile": "13900000999"},
        headers=city,
    )
    assert moving.status_code == 201, moving.text
    transfer = await client.post(
        f"/v1/schools/{scope.school_id}/transfers",
        json={"ce_number": moving.json()["ce_number"], "name": f"调动教师{serial}"},
        headers=admin,
    )
    assert transfer.status_code == 201, transfer.text
    scope.transfer_id = transfer.json()["id"]


_MAKE: dict[str, Callable[..., str]] = {}


def bearer_for_school(scope: Scope) -> dict[str, str]:
    return bearer(_MAKE["token"]("school_admin", school_id=scope.school_id, district=scope.district))


# --- requests from the OpenAPI document ----------------------------------------------------------------


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def example(doc: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> Any:
    """A plausible valid value for ``schema`` (required fields only), so a refusal comes from access."""
    schema = resolve(doc, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if resolve(doc, s).get("type") != "null"]
            return example(doc, options[0], depth + 1) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {
            name: example(doc, props[name], depth + 1)
            for name in schema.get("required", [])
            if name in props and depth < 6
        }
    if kind == "array":
        return [example(doc, schema.get("items", {}), depth + 1) for _ in range(schema.get("minItems", 0) or 1)]
    if kind == "integer":
        return int(schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1))
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if kind == "string":
        fmt, pattern = schema.get("format"), schema.get("pattern", "")
        if fmt == "binary" or "contentMediaType" in schema:
            return b"%PDF-1.4\n"
        if fmt == "date-time":
            return "2026-03-01T00:00:00+08:00"
        if fmt == "date":
            return "2026-03-01"
        if fmt == "email":
            return "a@example.com"
        if pattern:
            candidates = ["2602", "123456", "13900000001", "2026000001", "2602100001", "abc", "a1"]
            return next((c for c in candidates if re.search(pattern, c)), "x")
        length = max(int(schema.get("minLength", 1)), 1)
        return ("x" * length)[: int(schema.get("maxLength", length))]
    return "x"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    path_params: list[str]
    query_params: list[dict[str, Any]]
    body: dict[str, Any] | None

    @property
    def in_path(self) -> set[str]:
        return set(self.path_params) & OBJECT_PARAMETERS

    @property
    def in_query(self) -> set[str]:
        return {p["name"] for p in self.query_params} & OBJECT_PARAMETERS

    def in_body(self, doc: dict[str, Any]) -> set[str]:
        """Top-level JSON body fields that name an object (a teacher named in a form of one's own school)."""
        content = (self.body or {}).get("content", {})
        if "application/json" not in content:
            return set()
        schema = resolve(doc, content["application/json"].get("schema", {}))
        return set(schema.get("properties", {})) & OBJECT_PARAMETERS


def operations(doc: dict[str, Any]) -> list[Operation]:
    found = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            params = op.get("parameters", [])
            path_params = [p["name"] for p in params if p["in"] == "path"]
            query = [p for p in params if p["in"] == "query"]
            operation = Operation(method.upper(), path, path_params, query, op.get("requestBody"))
            if operation.in_path or operation.in_query or operation.in_body(doc):
                found.append(operation)
    return found


def request_for(doc: dict[str, Any], op: Operation, scope: Scope, body_scope: Scope | None = None) -> dict[str, Any]:
    values = {}
    for name in op.path_params:
        value = scope.value(name) or NEUTRAL.get(name)
        assert value is not None, f"{op.method} {op.path}: no value for path parameter {name!r}"
        values[name] = value
    url = op.path.format(**values)
    params: dict[str, Any] = {}
    for param in op.query_params:
        name = param["name"]
        if name in OBJECT_PARAMETERS:
            params[name] = scope.value(name)
        elif param.get("required"):
            params[name] = NEUTRAL.get(name, example(doc, param.get("schema", {})))
    kwargs: dict[str, Any] = {"params": params}
    if op.body:
        content = op.body.get("content", {})
        if "application/json" in content:
            kwargs["json"] = example(doc, content["application/json"].get("schema", {}))
            if body_scope is not None and isinstance(kwargs["json"], dict):
                for name in op.in_body(doc):
                    kwargs["json"][name] = body_scope.value(name)
        elif "multipart/form-data" in content:
            form = example(doc, content["multipart/form-data"].get("schema", {})) or {}
            files = {k: ("f.pdf", v, "application/pdf") for k, v in form.items() if isinstance(v, bytes)}
            data = {k: str(v) for k, v in form.items() if not isinstance(v, bytes)}
            kwargs["files"], kwargs["data"] = files or None, data or None
        else:
            kwargs["content"] = b"PK\x03\x04"
    return {"method": op.method, "url": url, **kwargs}


@dataclass
class Finding:
    service: str
    caller: str
    request: str
    status: int
    why: str


async def sweep(
    service: str,
    client: httpx.AsyncClient,
    doc: dict[str, Any],
    scopes: tuple[Scope, Scope],
    make_token: Callable[..., str],
) -> tuple[list[Finding], int]:
    findings: list[Finding] = []
    calls = 0
    for target, caller_scope in (scopes, scopes[::-1]):
        for op in operations(doc):
            if op.in_body(doc):  # the caller's own path, the other scope's object in the body
                own_path = request_for(doc, op, caller_scope, body_scope=target)
                for caller, headers in caller_scope.outsiders(make_token).items():
                    response = await client.request(**own_path, headers=headers)
                    calls += 1
                    leaked = [s for s in target.secrets() if s in response.text]
                    if leaked:
                        label = f"{own_path['method']} {own_path['url']} body {own_path.get('json')}"
                        findings.append(Finding(service, caller, label, response.status_code, f"body holds {leaked}"))
            if not (op.in_path or op.in_query):
                continue
            request = request_for(doc, op, target)
            for caller, headers in caller_scope.outsiders(make_token).items():
                response = await client.request(**request, headers=headers)
                calls += 1
                label = f"{request['method']} {request['url']} {request.get('params') or ''}"
                status = response.status_code
                leaked = [s for s in target.secrets() if s in response.text]
                if leaked:
                    findings.append(Finding(service, caller, label, status, f"body holds {leaked}"))
                if caller == "anonymous" and status != 401:
                    findings.append(Finding(service, caller, label, status, "no token must be 401"))
                elif status == 422 and unseeded(op, target) and response.json().get("code") == "validation_failed":
                    pass  # an unknown id of a kind not seeded here, refused by its format: nothing revealed
                elif status not in OK_STATUSES and (op.in_path or not 200 <= status < 300):
                    # an object in the path: refused; an object only as a query filter: refused or 2xx
                    findings.append(Finding(service, caller, label, status, response.text[:400]))
    return findings, calls


def unseeded(op: Operation, scope: Scope) -> bool:
    """Whether the request names an object by an id made up for a kind this test does not seed."""
    names = set(op.path_params) | {param["name"] for param in op.query_params}
    return bool(names & set(scope.extra))


def report(findings: list[Finding]) -> str:
    return "\n".join(f"{f.service} {f.caller:15} {f.status} {f.request} :: {f.why}" for f in findings)


@pytest.fixture
async def enrollment_system(
    settings_env: dict[str, Any], make_token: Callable[..., str]
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any], tuple[Scope, Scope]]]:
    _MAKE["token"] = make_token
    app = create_enrollment_api(build_enrollment(EnrollmentSettings(**settings_env)))
    async with api_client(app) as client:
        city = bearer(make_token("city_admin", subject="account:city"))
        scopes = (Scope("天河区"), Scope("越秀区"))
        for serial, scope in enumerate(scopes, start=1):
            await seed_enrollment(client, city, scope, serial)
        yield client, app.openapi(), scopes


async def test_enrollment_access_matrix(enrollment_system: Any, make_token: Callable[..., str]) -> None:
    client, doc, scopes = enrollment_system
    findings, calls = await sweep("enrollment", client, doc, scopes, make_token)
    assert calls > 500
    assert not findings, f"{len(findings)} of {calls} calls reached another scope:\n{report(findings)}"


async def test_hours_access_matrix(settings_env: dict[str, Any], make_token: Callable[..., str]) -> None:
    container = build_hours(HoursSettings(**settings_env))
    scopes = (Scope("天河区"), Scope("越秀区"))
    for serial, scope in enumerate(scopes, start=1):
        scope.school_id, scope.school_name = f"school-{serial}", f"矩阵学校{serial}"
        scope.ce_number, scope.teacher_name = f"202600000{serial}", f"矩阵教师{serial}"
        await container.teachers.upsert(  # hours' read copy of the roster, as its consumer writes it
            scope.ce_number,
            {"school_id": scope.school_id, "district": scope.district, "name": scope.teacher_name},
            datetime.now(UTC),
        )
    app = create_hours_api(container)
    async with api_client(app) as client:
        findings, calls = await sweep("hours", client, app.openapi(), scopes, make_token)
    assert calls > 100
    assert not findings, f"{len(findings)} of {calls} calls reached another scope:\n{report(findings)}"


@pytest.mark.parametrize("service", ["enrollment", "hours"])
def test_every_object_parameter_is_known(service: str, settings_env: dict[str, Any]) -> None:
    """A path parameter is either an object of a scope (``OBJECT_PARAMETERS``) or neutral (``NEUTRAL``):
    a new kind of object in a path must be added to one of them, never silently skipped."""
    if service == "enrollment":
        doc = create_enrollment_api(build_enrollment(EnrollmentSettings(**settings_env))).openapi()
    else:
        doc = create_hours_api(build_hours(HoursSettings(**settings_env))).openapi()
    unknown = {
        (path, p["name"])
        for path, item in doc["paths"].items()
        for op in item.values()
        for p in op.get("parameters", [])
        if p["in"] == "path" and p["name"] not in OBJECT_PARAMETERS and p["name"] not in NEUTRAL
    }
    assert not unknown, f"classify these path parameters in tests/access_matrix: {sorted(unknown)}"


@pytest.mark.parametrize("service", ["notify", "studio", "baseline"])
async def test_other_services_access_matrix(
    service: str, settings_env: dict[str, Any], make_token: Callable[..., str]
) -> None:
    """The services whose objects are not seeded here yet: every operation naming an object still
    answers nobody with 401 and the other scope with 401/403/404 (the object ids are unknown ones)."""
    bootstrap = importlib.import_module(f"{service}.bootstrap")
    entry = importlib.import_module(f"{service}.entrypoints.api.app")
    settings_module = importlib.import_module(f"{service}.settings")
    app = entry.create_app(bootstrap.build(settings_module.Settings(**settings_env)))
    scopes = (Scope("天河区"), Scope("越秀区"))
    for serial, scope in enumerate(scopes, start=1):
        scope.school_id, scope.ce_number = f"school-{serial}", f"202600000{serial}"
    async with api_client(app) as client:
        findings, calls = await sweep(service, client, app.openapi(), scopes, make_token)
    assert not findings, f"{len(findings)} of {calls} calls reached another scope:\n{report(findings)}"
