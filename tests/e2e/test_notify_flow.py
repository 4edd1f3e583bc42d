"""Notify across real processes: a teacher registered on enrollment gets the welcome SMS in the
development sink and the welcome email at the system's SMTP mail catcher; the demo city admin (bound mobile
13800000000, known to notify through AdminRegistered at seeding) gets a verification code and
exchanges it for a step-up token."""

from __future__ import annotations

import os
import uuid
from email.message import EmailMessage
from typing import Any

import pytest

from jijiao_kit.stepup import StepUpVerifier
from jijiao_stack.mailcatcher import read_messages
from jijiao_stack.pytest_plugin import RunningSystem, eventually

pytestmark = pytest.mark.e2e

# Quiet hours must not hold the welcome notices when the suite runs at night (the system is started
# once per session, after collection, so this reaches its services).
_extra = os.environ.get("JIJIAO_E2E_ENV", "")
if "QUIET_HOURS_ENABLED" not in _extra:
    os.environ["JIJIAO_E2E_ENV"] = ",".join(part for part in (_extra, "QUIET_HOURS_ENABLED=false") if part)


async def get(system: RunningSystem, service: str, path: str, token: str, **params: Any) -> Any:
    async with system.client(service, token) as client:
        response = await client.get(path, params=params)
    return response.json() if response.status_code == 200 else None


async def test_enrollment_event_reaches_sms_sink_and_smtp(running_system: RunningSystem) -> None:
    token = await running_system.login("cityadmin", "jijiao-demo")
    schools = await get(running_system, "enrollment", "/v1/schools", token)
    assert schools, "the demo data has schools"
    address = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    teacher = await running_system.register_teacher(token, schools[0]["id"], "林晓", stage=None, email=address)
    mobile, ce_number = teacher.mobile, teacher.ce_number

    async def sms() -> list[dict[str, Any]]:
        return await get(running_system, "notify", "/v1/dev/sms", token, to=mobile) or []

    (received,) = await eventually(sms, timeout=30)
    assert received["text"].startswith("【广州继教网】林晓老师您好") and ce_number in received["text"]

    async def mail() -> list[EmailMessage]:
        return [m for m in read_messages(running_system.mail_dir) if m["To"] == address]

    (message,) = await eventually(mail, timeout=30)
    assert message["Subject"] == "欢迎加入继续教育平台"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and ce_number in body.get_content()

    log = await eventually(lambda: get(running_system, "notify", "/v1/messages", token, to=address), timeout=20)
    assert [(m["channel"], m["status"], m["attempts"]) for m in log] == [("email", "sent", 1)]


async def test_city_admin_gets_a_code_on_the_bound_mobile_and_a_step_up_token(running_system: RunningSystem) -> None:
    token = await running_system.login("cityadmin", "jijiao-demo")
    async with running_system.client("notify", token) as notify:

        async def requested() -> Any:
            response = await notify.post("/v1/verifications", json={"purpose": "export"})
            if response.status_code == 409:  # AdminRegistered not consumed yet
                return None
            return response

        response = await eventually(requested, timeout=30, interval=0.5)
        assert response.status_code == 201, response.text
        assert response.json()["masked_mobile"] == "138****0000"

        async def code() -> str | None:
            listed = (await notify.get("/v1/dev/sms", params={"to": "13800000000"})).json()
            texts = [m["text"] for m in listed if "验证码为" in m["text"]]
            return texts[0].split("验证码为")[1][:6] if texts else None

        value = await eventually(code, timeout=20)
        checked = await notify.post(f"/v1/verifications/{response.json()['id']}/check", json={"code": value})
    assert checked.status_code == 200, checked.text
    keys = running_system.var_dir / "keys" / "stepup_public.pem"
    claims = StepUpVerifier(keys.read_bytes()).verify(
        checked.json()["step_up_token"], subject=_subject(token), purpose="export"
    )
    assert claims["exp"] - claims["iat"] == 30 * 60


def _subject(token: str) -> str:
    import jwt

    return str(jwt.decode(token, options={"verify_signature": False})["sub"])
