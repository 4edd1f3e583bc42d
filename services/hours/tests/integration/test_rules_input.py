"""Issue 12 item 11: PUT /v1/rules/{year} refuses unknown keys (a misspelt key used to be dropped and
the year's rules reset to the defaults), and leaves the stored rules as they were."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from jijiao_stack.pytest_plugin import bearer


@pytest.mark.parametrize(
    "edit",
    [
        {"requirment": {"total": 10}},  # misspelt top-level key
        {"requirement": {"totl": 10}},  # misspelt nested key
        {"cap_groups": {"studio": {"label": "工作室", "cap": 42, "kap": 1}}},
        {
            "complaint_period": {
                "opens_at": "2027-02-01T00:00:00+00:00",
                "closes_at": "2027-03-01T00:00:00+00:00",
                "x": 1,
            }
        },
    ],
)
async def test_unknown_keys_are_refused_and_nothing_changes(
    client: httpx.AsyncClient, make_token: Any, edit: dict[str, Any]
) -> None:
    city = bearer(make_token("city_admin", subject="city"))
    rules = (await client.get("/v1/rules/2027", headers=city)).json()
    rules["requirement"]["total"] = 80
    assert (await client.put("/v1/rules/2027", json=rules, headers=city)).status_code == 200
    refused = await client.put("/v1/rules/2027", json=edit, headers=city)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "invalid_rules"
    after = (await client.get("/v1/rules/2027", headers=city)).json()
    assert after["requirement"]["total"] == 80


async def test_complaint_period_refuses_unknown_keys(client: httpx.AsyncClient, make_token: Any) -> None:
    city = bearer(make_token("city_admin", subject="city"))
    period = {"opens_at": "2027-02-01T00:00:00+00:00", "closes_at": "2027-03-01T00:00:00+00:00", "open": True}
    refused = await client.put("/v1/rules/2026/complaint-period", json=period, headers=city)
    assert refused.status_code == 422, refused.text
