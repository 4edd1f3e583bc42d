"""Who may see and register what (role AND scope, DESIGN.md rule 7)."""

from __future__ import annotations

from typing import Any

from jijiao_contracts.enums import Role
from jijiao_kit.access import ADMIN_LEVELS, Level, covers
from jijiao_kit.access import scope_filter as kit_scope_filter
from jijiao_kit.auth import Principal
from jijiao_kit.errors import Forbidden, NotFound

#: Which roles register which sources (besides the city admin, who may register every registrable source).
#: Points redemption is never registered: it only comes from the points bank.
REGISTRANT_ROLES: dict[str, set[str]] = {
    "platform_course": set(),
    "training_class": {Role.DISTRICT_ADMIN},
    "national_provincial_training": {Role.DISTRICT_ADMIN},
    "teaching_research": {Role.RESEARCH_OFFICE},
    "online_trainer": {Role.REMOTE_CENTRE},
    "studio": set(),
    "degree_related": {Role.DISTRICT_ADMIN},
    "degree_unrelated": {Role.DISTRICT_ADMIN},
    "research_output_main": {Role.DISTRICT_ADMIN},
    "research_output_other": {Role.DISTRICT_ADMIN},
    "vocational_qualification": {Role.DISTRICT_ADMIN},
    "industry_training": {Role.DISTRICT_ADMIN},
    "mental_health_certificate": {Role.DISTRICT_ADMIN},
    "school_based": {Role.SCHOOL_ADMIN},
    "xuexi_qiangguo": {Role.SCHOOL_ADMIN},
}


SELF_ONLY = frozenset({Level.SELF})
SCHOOL_ONLY = frozenset({Level.SCHOOL})
DISTRICT_ONLY = frozenset({Level.DISTRICT})
DISTRICT_OR_CITY = frozenset({Level.DISTRICT, Level.CITY})


def is_self(principal: Principal, ce_number: str) -> bool:
    """The teacher themself (nobody acts for them: redeeming points, editing their declarations)."""
    return covers(principal, ce_number=ce_number, levels=SELF_ONLY)


def is_school_admin_of(principal: Principal, school_id: str | None) -> bool:
    """A school admin of that school (the principal alone is not: school reviews are the admins')."""
    return principal.has_role(Role.SCHOOL_ADMIN) and covers(principal, school_id=school_id, levels=SCHOOL_ONLY)


def covers_district(principal: Principal, district: str | None) -> bool:
    """The city, or an admin of that district."""
    return covers(principal, district=district, levels=DISTRICT_OR_CITY)


def teacher_not_found(ce_number: str) -> NotFound:
    return NotFound(f"No hours account for {ce_number}.", code="teacher_not_found", title="找不到该教师的学时账户")


def ensure_can_see(principal: Principal, ce_number: str, teacher: dict[str, Any] | None) -> dict[str, Any]:
    """The teacher's projection if the caller may see them; 404 otherwise (no existence leak)."""
    if teacher is None or not covers(
        principal, ce_number=ce_number, school_id=teacher.get("school_id"), district=teacher.get("district")
    ):
        raise teacher_not_found(ce_number)
    return teacher


def ensure_can_register(principal: Principal, source: str, teacher: dict[str, Any]) -> None:
    roles = REGISTRANT_ROLES.get(source)
    if roles is None:
        raise Forbidden(
            f"Source {source} cannot be registered.", code="source_not_registrable", title="该来源的学时不能直接登记"
        )
    if principal.has_role(Role.CITY_ADMIN):
        return
    held = [role for role in roles if principal.has_role(role)]
    if not held:
        raise Forbidden(
            f"Your role may not register {source} hours.", code="source_not_allowed", title="无权登记该来源的学时"
        )
    in_scope = False
    for role in held:
        if role == Role.SCHOOL_ADMIN:
            in_scope = in_scope or covers(principal, school_id=teacher.get("school_id"), levels=SCHOOL_ONLY)
        elif role == Role.DISTRICT_ADMIN:
            in_scope = in_scope or covers(principal, district=teacher.get("district"), levels=DISTRICT_ONLY)
        else:  # research office, remote centre: city-level unless their token names a district
            in_scope = in_scope or principal.district is None or principal.district == teacher.get("district")
    if not in_scope:
        raise Forbidden("The teacher is outside your scope.", code="out_of_scope", title="该教师不在您的管理范围内")


def require(principal: Principal, *roles: str) -> None:
    if not principal.has_role(*roles):
        raise Forbidden(f"Requires one of the roles: {', '.join(roles)}.", code="forbidden", title="无权进行此操作")


def scope_filter(principal: Principal) -> dict[str, Any]:
    """Query restriction on teacher-owned documents by the caller's scope."""
    scope = kit_scope_filter(principal)
    if scope is not None:
        return scope
    raise Forbidden("No scope for this list.", code="forbidden", title="无权进行此操作")


def verification_scope(principal: Principal, school_id: str | None = None) -> dict[str, str | None]:
    """The (school, district) an admin may verify or export; a school id narrows it when allowed."""
    scope = kit_scope_filter(principal, levels=ADMIN_LEVELS)
    if scope is None:
        raise Forbidden("Admins only.", code="forbidden", title="无权进行此操作")
    if "school_id" in scope:
        if school_id not in (None, scope["school_id"]):
            raise Forbidden("Another school.", code="out_of_scope", title="该学校不在您的管理范围内")
        return {"school_id": scope["school_id"], "district": None}
    return {"school_id": school_id, "district": scope.get("district")}
