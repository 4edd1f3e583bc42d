"""A sensitive export across real processes (DOMAIN §1: viewing or exporting selections and payments
needs an SMS code sent to the admin's bound phone; a successful check is valid for 30 minutes): the
city admin's admission query on enrollment is refused without a step-up token, the admin asks notify
for a code (purpose ``export``), reads it from the development SMS sink, exchanges it for the token,
and the same query (and its .xlsx export) then answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from jijiao_kit.stepup import STEP_UP_HEADER
from jijiao_stack.pytest_plugin import RunningSystem, eventually

pytestmark = pytest.mark.e2e

DEMO = "jijiao-demo"
CITY_MOBILE = "13800000000"  # the demo city admin's bound mobile
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def ensure_term(client: httpx.AsyncClient) -> str:
    now = datetime.now(UTC)
    term = f"{now.year % 100:02d}09"
    created = await client.post(
        "/v1/terms",
        json={
            "code": term,
            "year": now.year,
            "selection_opens_at": (now - timedelta(hours=1)).isoformat(),
            "selection_closes_at": (now + timedelta(days=7)).isoformat(),
            "study_starts_on": (now + timedelta(days=8)).date().isoformat(),
            "study_ends_on": (now + timedelta(days=60)).date().isoformat(),
            "payment_due_at": (now + timedelta(days=20)).isoformat(),
        },
    )
    assert created.status_code in (201, 409), created.text  # 409: an earlier run of this session made it
    return term


async def request_code(notify: httpx.AsyncClient) -> dict[str, Any]:
    """POST /v1/verifications, waiting out what a shared session may put in the way: the admin's contact
    not consumed yet (409) or a code requested by another test within the last minute (429)."""

    async def requested() -> dict[str, Any]:
        response = await notify.post("/v1/verifications", json={"purpose": "export"})
        if response.status_code in (409, 429):
            return {}
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    return await eventually(requested, timeout=90, interval=1.0)


async def code_from_sink(notify: httpx.AsyncClient, verification_id: str) -> str:
    """The code of this verification: its SMS is kept in the sink under the notice's id, which begins
    with the verification's own cause id (other codes to the same phone are not mixed in)."""

    async def code() -> str:
        listed = await notify.get("/v1/dev/sms", params={"to": CITY_MOBILE})
        assert listed.status_code == 200, listed.text
        for message in listed.json():
            if message["id"].startswith(f"verification:{verification_id}:") and "验证码为" in message["text"]:
                return str(message["text"].split("验证码为")[1][:6])
        return ""

    return await eventually(code, timeout=20)


async def test_admission_export_needs_the_step_up_token_from_notify(running_system: RunningSystem) -> None:
    system = running_system
    city = await system.login("cityadmin", DEMO)
    async with system.client("enrollment", city) as enrollment:
        term = await ensure_term(enrollment)
        refused = await enrollment.get(f"/v1/terms/{term}/admissions")
        forged = await enrollment.get(f"/v1/terms/{term}/admissions", headers={STEP_UP_HEADER: "not-a-token"})
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "step_up_required"
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert forged.status_code == 403 and forged.json()["code"] == "step_up_required"

    async with system.client("notify", city) as notify:
        verification = await request_code(notify)
        assert verification["masked_mobile"] == "138****0000"
        code = await code_from_sink(notify, verification["id"])
        checked = await notify.post(f"/v1/verifications/{verification['id']}/check", json={"code": code})
    assert checked.status_code == 200, checked.text
    step_up = checked.json()
    assert step_up["purpose"] == "export"

    async with system.client("enrollment", city) as enrollment:
        headers = {STEP_UP_HEADER: step_up["step_up_token"]}
        granted = await enrollment.get(f"/v1/terms/{term}/admissions", headers=headers)
        exported = await enrollment.get(f"/v1/terms/{term}/admissions.xlsx", headers=headers)
        still_refused = await enrollment.get(f"/v1/terms/{term}/admissions.xlsx")
    assert granted.status_code == 200, granted.text
    assert isinstance(granted.json(), list)
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith(XLSX) and exported.content[:2] == b"PK"
    assert still_refused.status_code == 403 and still_refused.json()["code"] == "step_up_required"
