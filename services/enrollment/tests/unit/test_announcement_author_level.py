"""Who publishes announcements at which level: the caller's widest administrative scope."""

from __future__ import annotations

import pytest

from enrollment.domain.announcements import Level
from enrollment.service_layer.announcements import author_level
from jijiao_kit.auth import Principal


def who(*roles: str, **scopes: str) -> Principal:
    return Principal(subject="x", roles=frozenset(roles), scopes=dict(scopes))


@pytest.mark.parametrize(
    ("principal", "level"),
    [
        (who("city_admin", district="D1", school_id="S1"), Level.CITY),
        (who("district_admin", district="D1"), Level.DISTRICT),
        (who("district_admin", "school_admin", district="D1", school_id="S1"), Level.DISTRICT),
        (who("district_admin", "school_admin", school_id="S1"), Level.SCHOOL),
        (who("district_admin"), None),
        (who("school_admin", school_id="S1", district="D1"), Level.SCHOOL),
        (who("principal", school_id="S1", district="D1"), Level.SCHOOL),
        (who("school_admin"), None),
        (who("teacher", ce_number="T1", school_id="S1", district="D1"), None),
        (who("remote_centre"), None),
        (who("institution", institution_id="I1"), None),
    ],
)
def test_author_level(principal: Principal, level: Level | None) -> None:
    assert author_level(principal) is level
