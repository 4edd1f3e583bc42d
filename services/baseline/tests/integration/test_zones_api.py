from typing import Any

from baseline.bootstrap import build
from baseline.entrypoints.api.app import create_app
from baseline.settings import Settings
from jijiao_stack.pytest_plugin import api_client, bearer

ZONE = {"name": "天河实验区", "contact_name": "刘老师", "contact_mobile": "13700000001", "academic_year": 2026}


async def test_base_admin_creates_a_zone_with_its_yearly_quota(settings_env: dict[str, Any], make_token: Any) -> None:
    admin = bearer(make_token("base_admin"))
    async with api_client(create_app(build(Settings(**settings_env)))) as client:
        created = await client.post("/v1/zones", json=ZONE, headers=admin)
        duplicate = await client.post("/v1/zones", json=ZONE, headers=admin)
        by_teacher = await client.post("/v1/zones", json=ZONE, headers=bearer(make_token("teacher")))
        own = await client.get(
            f"/v1/zones/{created.json()['id']}",
            headers=bearer(make_token("zone_contact", zone_id=created.json()["id"])),
        )
        other = await client.get(
            f"/v1/zones/{created.json()['id']}", headers=bearer(make_token("zone_contact", zone_id="x"))
        )
    assert created.status_code == 201, created.text
    assert created.json()["quotas"]["2026"]["person_times"] == 35
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "zone_exists"
    assert by_teacher.status_code == 403
    assert own.status_code == 200 and own.json()["contact"]["mobile"] == "13700000001"
    assert other.status_code == 404
