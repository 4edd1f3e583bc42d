"""Hours scope decisions per role: complaint handling and final review (district or city), initial
review (the school's admins), registering hours for a teacher (role AND scope)."""

from __future__ import annotations

from typing import Any

import pytest

from hours.service_layer.access import covers_district, ensure_can_register, is_school_admin_of, is_self
from jijiao_kit.auth import Principal
from jijiao_kit.errors import Forbidden

TEACHER: dict[str, Any] = {"_id": "T1", "school_id": "S1", "district": "D1"}


def who(*roles: str, **scopes: str) -> Principal:
    return Principal(subject="x", roles=frozenset(roles), scopes=dict(scopes))


@pytest.mark.parametrize(
    ("principal", "allowed"),
    [
        (who("city_admin"), True),
        (who("district_admin", district="D1"), True),
        (who("district_admin", district="D2"), False),
        (who("district_admin"), False),
        (who("school_admin", school_id="S1", district="D1"), False),
        (who("principal", school_id="S1", district="D1"), False),
        (who("teacher", ce_number="T1", school_id="S1", district="D1"), False),
    ],
)
def test_covers_district(principal: Principal, allowed: bool) -> None:
    assert covers_district(principal, "D1") is allowed


@pytest.mark.parametrize(
    ("principal", "allowed"),
    [
        (who("school_admin", school_id="S1"), True),
        (who("school_admin", school_id="S2"), False),
        (who("school_admin"), False),
        (who("principal", school_id="S1"), False),  # school reviews are the admins'
        (who("principal", "school_admin", school_id="S1"), True),
        (who("district_admin", district="D1"), False),
        (who("city_admin"), False),
        (who("teacher", ce_number="T1", school_id="S1"), False),
    ],
)
def test_is_school_admin_of(principal: Principal, allowed: bool) -> None:
    assert is_school_admin_of(principal, "S1") is allowed
    assert is_school_admin_of(principal, None) is False


@pytest.mark.parametrize(
    ("principal", "source", "allowed"),
    [
        (who("city_admin"), "training_class", True),
        (who("district_admin", district="D1"), "training_class", True),
        (who("district_admin", district="D2"), "training_class", False),
        (who("school_admin", school_id="S1", district="D1"), "school_based", True),
        (who("school_admin", school_id="S2", district="D1"), "school_based", False),
        (who("principal", school_id="S1", district="D1"), "school_based", False),
        (who("school_admin", school_id="S1", district="D1"), "training_class", False),
        (who("research_office"), "teaching_research", True),
        (who("research_office", district="D1"), "teaching_research", True),
        (who("research_office", district="D2"), "teaching_research", False),
        (who("teacher", ce_number="T1", school_id="S1", district="D1"), "school_based", False),
    ],
)
def test_ensure_can_register(principal: Principal, source: str, allowed: bool) -> None:
    if allowed:
        ensure_can_register(principal, source, TEACHER)
    else:
        with pytest.raises(Forbidden):
            ensure_can_register(principal, source, TEACHER)


@pytest.mark.parametrize(
    ("principal", "allowed"),
    [
        (who("teacher", ce_number="T1", school_id="S1", district="D1"), True),
        (who("teacher", ce_number="T2", school_id="S1", district="D1"), False),
        (who("teacher"), False),
        (who("school_admin", ce_number="T1", school_id="S1"), False),  # only as a teacher
        (who("principal", ce_number="T1", school_id="S1"), False),
        (who("district_admin", district="D1"), False),
        (who("city_admin"), False),
    ],
)
def test_is_self(principal: Principal, allowed: bool) -> None:
    assert is_self(principal, "T1") is allowed
