"""Results read scope per role (can_read_selection, admin_scope): own/other teacher, school, district, city."""

from __future__ import annotations

from typing import Any

import pytest

from enrollment.service_layer.results import ResultsService, admin_scope
from jijiao_kit.auth import Principal
from jijiao_kit.errors import Forbidden

SELECTION: dict[str, Any] = {"ce_number": "T1", "school_id": "S1", "district": "D1", "institution_id": "I1"}


def who(role: str, **scopes: str) -> Principal:
    return Principal(subject=f"{role}-x", roles=frozenset({role}), scopes=dict(scopes))


@pytest.mark.parametrize(
    ("principal", "allowed"),
    [
        (who("teacher", ce_number="T1", school_id="S1", district="D1"), True),
        (who("teacher", ce_number="T2", school_id="S1", district="D1"), False),
        (who("school_admin", school_id="S1", district="D1"), True),
        (who("school_admin", school_id="S2", district="D1"), False),
        (who("principal", school_id="S1", district="D1"), True),
        (who("principal", school_id="S2", district="D1"), False),
        (who("district_admin", district="D1"), True),
        (who("district_admin", district="D2"), False),
        (who("city_admin"), True),
        (who("remote_centre"), True),
        (who("institution", institution_id="I1"), True),
        (who("institution", institution_id="I2"), False),
        (who("research_office", district="D1"), False),
    ],
)
def test_can_read_selection(principal: Principal, allowed: bool) -> None:
    assert ResultsService.can_read_selection(principal, SELECTION) is allowed


def test_admin_scope_city_and_remote_centre_anywhere() -> None:
    for role in ("city_admin", "remote_centre"):
        assert admin_scope(who(role), None) == {}
        assert admin_scope(who(role), "S9") == {"school_id": "S9"}
        assert admin_scope(who(role), "S9", narrow_district=False) == {"school_id": "S9"}


def test_admin_scope_district_own_district_only() -> None:
    admin = who("district_admin", district="D1")
    assert admin_scope(admin, None) == {"district": "D1"}
    assert admin_scope(admin, "S1") == {"district": "D1", "school_id": "S1"}
    assert admin_scope(admin, "S1", narrow_district=False) == {"district": "D1"}


@pytest.mark.parametrize("role", ["school_admin", "principal"])
def test_admin_scope_school_own_school_only(role: str) -> None:
    admin = who(role, school_id="S1", district="D1")
    assert admin_scope(admin, None) == {"school_id": "S1"}
    assert admin_scope(admin, "S1") == {"school_id": "S1"}
    with pytest.raises(Forbidden):
        admin_scope(admin, "S2")


@pytest.mark.parametrize(
    "principal",
    [
        who("teacher", ce_number="T1", school_id="S1", district="D1"),
        who("institution", institution_id="I1"),
        who("district_admin"),  # no district in the token
        who("school_admin"),  # no school in the token
    ],
)
def test_admin_scope_none_for_non_admins(principal: Principal) -> None:
    assert admin_scope(principal, None) is None
