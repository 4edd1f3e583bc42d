"""Scope checks on the token's claims that every service repeats for teacher-owned data."""

from __future__ import annotations

from jijiao_contracts.enums import Role
from jijiao_kit.auth import Principal


def can_see_teacher(principal: Principal, *, ce_number: str, school_id: str | None, district: str | None) -> bool:
    """A teacher sees themself; school admins their school; district admins their district; the city all."""
    if principal.has_role(Role.CITY_ADMIN):
        return True
    if principal.has_role(Role.TEACHER) and principal.ce_number == ce_number:
        return True
    if principal.has_role(Role.DISTRICT_ADMIN) and district is not None and principal.district == district:
        return True
    return (
        principal.has_role(Role.SCHOOL_ADMIN, Role.PRINCIPAL)
        and school_id is not None
        and principal.school_id == school_id
    )
