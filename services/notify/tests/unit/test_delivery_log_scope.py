"""Delivery-log admin scope per role: the city all, a district / school admin theirs plus their own."""

from __future__ import annotations

from typing import Any, cast

import pytest

from jijiao_kit.auth import Principal
from notify.service_layer.delivery_log import DeliveryLog

LOG = DeliveryLog(cast(Any, None), cast(Any, None), cast(Any, None), cast(Any, None), None)


def who(*roles: str, **scopes: str) -> Principal:
    return Principal(subject="me", roles=frozenset(roles), scopes=dict(scopes))


@pytest.mark.parametrize(
    ("principal", "scope"),
    [
        (who("city_admin"), {}),
        (who("district_admin", district="D1"), {"$or": [{"district": "D1"}, {"subject": "me"}]}),
        (who("school_admin", school_id="S1", district="D1"), {"$or": [{"school_id": "S1"}, {"subject": "me"}]}),
        (
            who("district_admin", "school_admin", school_id="S1", district="D1"),
            {"$or": [{"district": "D1"}, {"subject": "me"}]},
        ),
        (who("district_admin", "school_admin", school_id="S1"), {"$or": [{"school_id": "S1"}, {"subject": "me"}]}),
        (who("district_admin"), None),
        (who("school_admin"), None),
        (who("principal", school_id="S1", district="D1"), None),
        (who("teacher", ce_number="T1", school_id="S1", district="D1"), None),
        (who("remote_centre"), None),
    ],
)
def test_admin_scope(principal: Principal, scope: dict[str, Any] | None) -> None:
    assert LOG.admin_scope(principal) == scope
