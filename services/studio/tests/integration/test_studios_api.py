from datetime import UTC, datetime
from typing import Any

from jijiao_stack.pytest_plugin import api_client, bearer
from studio.bootstrap import build
from studio.entrypoints.api.app import create_app as create_api
from studio.settings import Settings


async def test_city_admin_founds_a_studio_for_a_known_teacher(settings_env: dict[str, Any], make_token: Any) -> None:
    container = build(Settings(**settings_env))
    await container.directory.record(
        "2026000001",
        {"name": "陈晓明", "school_id": "s1", "school_name": "一小", "district": "天河区"},
        datetime.now(UTC),
    )
    body = {"name": "陈晓明名教师工作室", "type": "teacher", "host_ce_number": "2026000001", "cycle_start_year": 2026}
    async with api_client(create_api(container)) as client:
        created = await client.post("/v1/studios", json=body, headers=bearer(make_token("city_admin")))
        unknown = await client.post(
            "/v1/studios", json={**body, "host_ce_number": "2026999999"}, headers=bearer(make_token("city_admin"))
        )
        by_teacher = await client.post("/v1/studios", json=body, headers=bearer(make_token("teacher", ce_number="1")))
        fetched = await client.get(f"/v1/studios/{created.json()['id']}", headers=bearer(make_token("city_admin")))
    assert created.status_code == 201, created.text
    assert created.json()["member_quota"] == {"min": 8, "max": 12}
    assert created.json()["cycle_end_year"] == 2028 and created.json()["host_name"] == "陈晓明"
    assert unknown.status_code == 422 and unknown.json()["code"] == "host_unknown"
    assert by_teacher.status_code == 403
    assert fetched.json()["name"] == "陈晓明名教师工作室"
