"""Object-level access: who may act on which school or teacher (every endpoint asks here)."""

from __future__ import annotations

from typing import Any

from jijiao_contracts.enums import Role
from jijiao_kit.auth import Principal
from jijiao_kit.errors import Forbidden


def can_manage_school(principal: Principal, school: dict[str, Any]) -> bool:
    if principal.has_role(Role.CITY_ADMIN):
        return True
    if principal.has_role(Role.DISTRICT_ADMIN) and principal.district == school["district"]:
        return True
    return principal.has_role(Role.SCHOOL_ADMIN, Role.PRINCIPAL) and principal.school_id == school["_id"]


def ensure_can_manage_school(principal: Principal, school: dict[str, Any]) -> None:
    if not can_manage_school(principal, school):
        raise Forbidden("Not an administrator of this school.", code="school_forbidden", title="无权管理该学校")


def ensure_can_create_school(principal: Principal, district: str) -> None:
    if principal.has_role(Role.CITY_ADMIN):
        return
    if principal.has_role(Role.DISTRICT_ADMIN) and principal.district == district:
        return
    raise Forbidden(
        "Only the city or that district's admin may add schools.", code="school_forbidden", title="无权在该区新增学校"
    )


def can_read_teacher(principal: Principal, teacher: dict[str, Any]) -> bool:
    if principal.has_role(Role.TEACHER) and principal.ce_number == teacher["_id"]:
        return True
    return can_manage_school(principal, {"_id": teacher["school_id"], "district": teacher["district"]})


def is_school_admin_of(principal: Principal, school_id: str) -> bool:
    """The school's own admins (the principal may use the school admin platform too) or the city."""
    if principal.has_role(Role.CITY_ADMIN):
        return True
    return principal.has_role(Role.SCHOOL_ADMIN, Role.PRINCIPAL) and principal.school_id == school_id


def ensure_school_admin_of(principal: Principal, school: dict[str, Any]) -> None:
    if not is_school_admin_of(principal, school["_id"]):
        raise Forbidden(
            "Only an administrator of this school may do this.", code="school_forbidden", title="仅本校管理员可操作"
        )


def teacher_scope_query(principal: Principal) -> dict[str, Any]:
    """The part of a teacher query a caller may see: city all, district its district, school its school."""
    if principal.has_role(Role.CITY_ADMIN):
        return {}
    if principal.has_role(Role.DISTRICT_ADMIN) and principal.district:
        return {"district": principal.district}
    if principal.has_role(Role.SCHOOL_ADMIN, Role.PRINCIPAL) and principal.school_id:
        return {"school_id": principal.school_id}
    raise Forbidden("Not allowed to list teachers.", code="forbidden", title="无权查看教师列表")
