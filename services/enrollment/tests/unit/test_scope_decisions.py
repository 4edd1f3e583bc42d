"""Scope decisions per role: who adds courses (catalogue), who records a bill's payment (billing), and
whose school course a school admin deletes a selection of (selection)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from enrollment.service_layer.billing import can_record_payment
from enrollment.service_layer.catalogue import NewCourse, ensure_can_create_course
from enrollment.service_layer.selection import SCHOOL_LEVEL
from jijiao_kit.access import covers
from jijiao_kit.auth import Principal
from jijiao_kit.errors import Forbidden


def who(*roles: str, **scopes: str) -> Principal:
    return Principal(subject="x", roles=frozenset(roles), scopes=dict(scopes))


def course(programme: str, district: str | None) -> NewCourse:
    return NewCourse(
        code="C1",
        name="课程",
        programme=programme,
        hour_type="public",
        hours=10,
        training_fee=Decimal(0),
        material_fee=Decimal(0),
        course_type="online",
        payee="centre",
        subject=None,
        stage=None,
        district=district,
    )


@pytest.mark.parametrize(
    ("principal", "new", "allowed"),
    [
        (who("city_admin"), course("city", None), True),
        (who("city_admin"), course("district", "D2"), True),
        (who("district_admin", district="D1"), course("district", "D1"), True),
        (who("district_admin", district="D1"), course("district", "D2"), False),
        (who("district_admin", district="D1"), course("city", "D1"), False),
        (who("district_admin"), course("district", None), False),  # no district in the token (was allowed)
        (who("school_admin", school_id="S1", district="D1"), course("district", "D1"), False),
        (who("principal", school_id="S1", district="D1"), course("district", "D1"), False),
        (who("teacher", ce_number="T1", district="D1"), course("district", "D1"), False),
        (who("remote_centre"), course("city", None), False),
    ],
)
def test_ensure_can_create_course(principal: Principal, new: NewCourse, allowed: bool) -> None:
    if allowed:
        ensure_can_create_course(principal, new)
    else:
        with pytest.raises(Forbidden):
            ensure_can_create_course(principal, new)


DISTRICT_BILL: dict[str, Any] = {"district": "D1", "programmes": ["district"], "payee": "P1"}
MIXED_BILL: dict[str, Any] = {"district": "D1", "programmes": ["district", "city"], "payee": "P1"}


@pytest.mark.parametrize(
    ("principal", "bill", "allowed"),
    [
        (who("city_admin"), MIXED_BILL, True),
        (who("remote_centre"), MIXED_BILL, True),
        (who("district_admin", district="D1"), DISTRICT_BILL, True),
        (who("district_admin", district="D2"), DISTRICT_BILL, False),
        (who("district_admin", district="D1"), MIXED_BILL, False),
        (who("district_admin"), {**DISTRICT_BILL, "district": None}, False),  # None never matches (was allowed)
        (who("school_admin", school_id="S1", district="D1"), DISTRICT_BILL, False),
        (who("teacher", ce_number="T1", district="D1"), DISTRICT_BILL, False),
        (who("institution", payee="P1"), DISTRICT_BILL, True),
        (who("institution", payee="P2"), DISTRICT_BILL, False),
    ],
)
def test_can_record_payment(principal: Principal, bill: dict[str, Any], allowed: bool) -> None:
    assert can_record_payment(principal, bill) is allowed


@pytest.mark.parametrize(
    ("principal", "own"),
    [
        (who("school_admin", school_id="S1"), True),
        (who("principal", school_id="S1"), True),
        (who("school_admin", school_id="S2"), False),
        (who("school_admin"), False),
    ],
)
def test_own_school_course_for_selection_deletion(principal: Principal, own: bool) -> None:
    # the selection service's own_school_course: the kit's school level (an actor SCHOOL_ADMIN already
    # holds a school role, so the level adds no condition beyond the school comparison)
    assert covers(principal, school_id="S1", levels=SCHOOL_LEVEL) is own
