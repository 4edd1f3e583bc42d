"""Object-level access: who may act on which school or teacher (every endpoint asks here), on the
kit's one scope rule (``jijiao_kit.access``)."""

from __future__ import annotations

from typing import Any

from jijiao_kit.access import ADMIN_LEVELS, Level, covers, scope_filter
from jijiao_kit.auth import Principal
from jijiao_kit.errors import Forbidden

#: The school's own administrators (the principal may use the school admin platform too) and the city.
SCHOOL_OR_CITY = frozenset({Level.SCHOOL, Level.CITY})


def can_manage_school(principal: Principal, school: dict[str, Any]) -> bool:
    return covers(principal, school_id=school["_id"], district=school["district"], levels=ADMIN_LEVELS)


def ensure_can_manage_school(principal: Principal, school: dict[str, Any]) -> None:
    if not can_manage_school(principal, school):
        raise Forbidden("Not an administrator of this school.", code="school_forbidden", title="无权管理该学校")


def ensure_can_create_school(principal: Principal, district: str) -> None:
    if covers(principal, district=district, levels=frozenset({Level.DISTRICT, Level.CITY})):
        return
    raise Forbidden(
        "Only the city or that district's admin may add schools.", code="school_forbidden", title="无权在该区新增学校"
    )


def can_read_teacher(principal: Principal, teacher: dict[str, Any]) -> bool:
    return covers(principal, ce_number=teacher["_id"], school_id=teacher["school_id"], district=teacher["district"])


def is_school_admin_of(principal: Principal, school_id: str) -> bool:
    """The school's own admins (the principal may use the school admin platform too) or the city."""
    return covers(principal, school_id=school_id, levels=SCHOOL_OR_CITY)


def ensure_school_admin_of(principal: Principal, school: dict[str, Any]) -> None:
    if not is_school_admin_of(principal, school["_id"]):
        raise Forbidden(
            "Only an administrator of this school may do this.", code="school_forbidden", title="仅本校管理员可操作"
        )


def teacher_scope_query(principal: Principal) -> dict[str, Any]:
    """The part of a teacher query a caller may see: city all, district its district, school its school."""
    scope = scope_filter(principal, levels=ADMIN_LEVELS)
    if scope is not None:
        return scope
    raise Forbidden("Not allowed to list teachers.", code="forbidden", title="无权查看教师列表")
