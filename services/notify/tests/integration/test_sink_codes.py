"""Issue 12 item 11: the development SMS sink shows a verification code only to its owner and the city
admin; a district admin (or another admin of the same school) who may read the school's notices in the
log does not read an admin's codes in the sink."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from jijiao_kit.clock import FixedClock
from jijiao_stack.pytest_plugin import api_client, bearer
from notify.bootstrap import build
from notify.entrypoints.api.app import create_app
from notify.settings import Settings

OWNER = "account:school-admin-1"
MOBILE = "13800000011"
T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


async def test_only_the_owner_and_the_city_read_a_code_in_the_sink(
    settings_env: dict[str, Any], make_token: Any
) -> None:
    clock = FixedClock(T0)
    container = build(Settings(**settings_env), clock=clock)
    assert container.settings.sms_backend == "sink"
    contact = {
        "kind": "admin",
        "name": "一小管理员",
        "mobile": MOBILE,
        "roles": ["school_admin"],
        "school_id": "s1",
        "district": "天河区",
    }
    await container.contacts.upsert(OWNER, contact, T0 - timedelta(days=1))
    owner = make_token("school_admin", subject=OWNER, school_id="s1", district="天河区")
    async with api_client(create_app(build(container.settings, clock=clock))) as client:
        created = await client.post("/v1/verifications", json={"purpose": "export"}, headers=bearer(owner))
        assert created.status_code == 201, created.text
        await container.delivery.run_once()
        [sent] = await container.sink.list_to(MOBILE)
        assert "验证码为" in sent["text"]

        async def sink_as(token: str) -> list[dict[str, Any]]:
            response = await client.get("/v1/dev/sms", params={"to": MOBILE}, headers=bearer(token))
            assert response.status_code in (200, 403), response.text
            return response.json() if response.status_code == 200 else []

        district = make_token("district_admin", subject="account:district-1", district="天河区")
        colleague = make_token("school_admin", subject="account:school-admin-2", school_id="s1", district="天河区")
        city = make_token("city_admin", subject="account:city-1")
        # the log shows the redacted text to whoever may read the school's notices
        log = await client.get("/v1/messages", params={"to": MOBILE}, headers=bearer(district))
        assert log.status_code == 200 and sent["text"] not in log.text
        assert [doc["id"] for doc in await sink_as(owner)] == [sent["id"]]
        assert [doc["id"] for doc in await sink_as(city)] == [sent["id"]]
        assert await sink_as(district) == []
        assert await sink_as(colleague) == []
