"""The one scope rule: which teachers, schools and districts a caller covers (DESIGN.md rule 7).

A caller reaches objects by the roles and scopes its token carries, at four levels:

- ``SELF``: a teacher covers their own objects (``ce_number``);
- ``SCHOOL``: a school admin or the principal covers their school's (``school_id``);
- ``DISTRICT``: a district admin covers their district's (``district``);
- ``CITY``: a city admin covers everything.

``covers`` answers "may this caller see this object"; ``scope_filter`` gives the query restriction for
"what may this caller list". Both take ``levels`` when a use case admits fewer levels (e.g. only
administrators list teachers). Services turn a refusal into their own problem (404 for an object out of
scope, so its existence does not leak)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from jijiao_contracts.enums import Role
from jijiao_kit.auth import Principal


class Level(StrEnum):
    SELF = "self"
    SCHOOL = "school"
    DISTRICT = "district"
    CITY = "city"


#: Every level, most specific first (the order ``covering_level`` tries them in).
ALL_LEVELS: frozenset[Level] = frozenset(Level)
#: The administrators' levels (a teacher's own scope excluded).
ADMIN_LEVELS: frozenset[Level] = frozenset({Level.SCHOOL, Level.DISTRICT, Level.CITY})
#: Who is city-wide unless a use case says more (e.g. the remote-training centre for bills).
CITY_ROLES: tuple[str, ...] = (Role.CITY_ADMIN,)
_ORDER = (Level.SELF, Level.SCHOOL, Level.DISTRICT, Level.CITY)


def covering_level(
    principal: Principal,
    *,
    ce_number: str | None = None,
    school_id: str | None = None,
    district: str | None = None,
    levels: frozenset[Level] = ALL_LEVELS,
    city_roles: Sequence[str] = CITY_ROLES,
) -> Level | None:
    """The most specific of ``levels`` at which the caller covers an object of teacher ``ce_number`` at
    school ``school_id`` in ``district`` (any may be unknown: None never matches), or None.
    ``city_roles``: the roles that reach the city level."""
    for level in _ORDER:
        if level in levels and _covers_at(principal, level, ce_number, school_id, district, city_roles):
            return level
    return None


def covers(
    principal: Principal,
    *,
    ce_number: str | None = None,
    school_id: str | None = None,
    district: str | None = None,
    levels: frozenset[Level] = ALL_LEVELS,
    city_roles: Sequence[str] = CITY_ROLES,
) -> bool:
    """Whether the caller covers the object at one of ``levels``: a teacher themself, school admins and
    the principal their school, district admins their district, the city everything."""
    level = covering_level(
        principal, ce_number=ce_number, school_id=school_id, district=district, levels=levels, city_roles=city_roles
    )
    return level is not None


def scope_filter(
    principal: Principal,
    *,
    levels: frozenset[Level] = ALL_LEVELS,
    city_roles: Sequence[str] = CITY_ROLES,
    ce_number_field: str = "ce_number",
    school_field: str = "school_id",
    district_field: str = "district",
) -> dict[str, Any] | None:
    """The query restriction of what the caller may list, at its widest level among ``levels``: ``{}``
    for the city, its district, its school, or its own teacher number; None if it may list nothing."""
    if Level.CITY in levels and principal.has_role(*city_roles):
        return {}
    if Level.DISTRICT in levels and principal.has_role(Role.DISTRICT_ADMIN) and principal.district:
        return {district_field: principal.district}
    if Level.SCHOOL in levels and principal.has_role(Role.SCHOOL_ADMIN, Role.PRINCIPAL) and principal.school_id:
        return {school_field: principal.school_id}
    if Level.SELF in levels and principal.has_role(Role.TEACHER) and principal.ce_number:
        return {ce_number_field: principal.ce_number}
    return None


def _covers_at(
    principal: Principal,
    level: Level,
    ce_number: str | None,
    school_id: str | None,
    district: str | None,
    city_roles: Sequence[str],
) -> bool:
    if level is Level.CITY:
        return principal.has_role(*city_roles)
    if level is Level.DISTRICT:
        return principal.has_role(Role.DISTRICT_ADMIN) and district is not None and principal.district == district
    if level is Level.SCHOOL:
        return (
            principal.has_role(Role.SCHOOL_ADMIN, Role.PRINCIPAL)
            and school_id is not None
            and principal.school_id == school_id
        )
    return principal.has_role(Role.TEACHER) and ce_number is not None and principal.ce_number == ce_number
