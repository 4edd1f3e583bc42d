"""The one scope rule, per role and scope: a teacher themself and another teacher, school admins and the
principal of their own and of another school, district admins of their own and of another district,
the city; and the list filter each of them gets."""

from __future__ import annotations

from typing import TypedDict

import pytest

from jijiao_contracts.enums import Role
from jijiao_kit.access import ADMIN_LEVELS, ALL_LEVELS, Level, covering_level, covers, scope_filter
from jijiao_kit.auth import Principal


class Owner(TypedDict):
    ce_number: str
    school_id: str
    district: str


#: The object every case asks about: teacher T1 of school S1 in district D1.
OBJECT: Owner = {"ce_number": "T1", "school_id": "S1", "district": "D1"}


def principal(role: str, **scopes: str) -> Principal:
    return Principal(subject=f"{role}:x", roles=frozenset({role}), scopes=scopes)


TEACHER_SELF = principal(Role.TEACHER, ce_number="T1", school_id="S1", district="D1")
OTHER_TEACHER = principal(Role.TEACHER, ce_number="T2", school_id="S1", district="D1")
SCHOOL_ADMIN_OWN = principal(Role.SCHOOL_ADMIN, school_id="S1", district="D1")
SCHOOL_ADMIN_OTHER = principal(Role.SCHOOL_ADMIN, school_id="S2", district="D1")
PRINCIPAL_OWN = principal(Role.PRINCIPAL, school_id="S1", district="D1", ce_number="T9")
PRINCIPAL_OTHER = principal(Role.PRINCIPAL, school_id="S2", district="D1", ce_number="T8")
DISTRICT_OWN = principal(Role.DISTRICT_ADMIN, district="D1")
DISTRICT_OTHER = principal(Role.DISTRICT_ADMIN, district="D2")
CITY = principal(Role.CITY_ADMIN)
INSTITUTION = principal(Role.INSTITUTION, institution_id="I1")
SCOPELESS_DISTRICT = principal(Role.DISTRICT_ADMIN)

CASES = [
    # (caller, covers the object, level that covers it, list filter)
    (TEACHER_SELF, True, Level.SELF, {"ce_number": "T1"}),
    (OTHER_TEACHER, False, None, {"ce_number": "T2"}),
    (SCHOOL_ADMIN_OWN, True, Level.SCHOOL, {"school_id": "S1"}),
    (SCHOOL_ADMIN_OTHER, False, None, {"school_id": "S2"}),
    (PRINCIPAL_OWN, True, Level.SCHOOL, {"school_id": "S1"}),
    (PRINCIPAL_OTHER, False, None, {"school_id": "S2"}),
    (DISTRICT_OWN, True, Level.DISTRICT, {"district": "D1"}),
    (DISTRICT_OTHER, False, None, {"district": "D2"}),
    (CITY, True, Level.CITY, {}),
    (INSTITUTION, False, None, None),
    (SCOPELESS_DISTRICT, False, None, None),
]
IDS = [
    "teacher-self",
    "other-teacher",
    "school-admin-own",
    "school-admin-other",
    "principal-own",
    "principal-other",
    "district-own",
    "district-other",
    "city",
    "institution",
    "district-without-scope",
]


@pytest.mark.parametrize(("caller", "expected", "level", "listed"), CASES, ids=IDS)
def test_each_role_covers_its_own_scope_only(
    caller: Principal, expected: bool, level: Level | None, listed: dict[str, str] | None
) -> None:
    assert covers(caller, **OBJECT) is expected
    assert covering_level(caller, **OBJECT) is level
    assert scope_filter(caller) == listed


@pytest.mark.parametrize(("caller", "expected", "level", "listed"), CASES, ids=IDS)
def test_the_filter_admits_exactly_what_covers_admits(
    caller: Principal, expected: bool, level: Level | None, listed: dict[str, str] | None
) -> None:
    """Listing and reading agree: the object matches the caller's filter iff the caller covers it."""
    owner = {"ce_number": OBJECT["ce_number"], "school_id": OBJECT["school_id"], "district": OBJECT["district"]}
    matches = listed is not None and all(owner.get(field) == value for field, value in listed.items())
    assert matches is expected


def test_levels_narrow_who_is_admitted() -> None:
    # only administrators list teachers: a teacher gets no filter at all
    assert scope_filter(TEACHER_SELF, levels=ADMIN_LEVELS) is None
    assert scope_filter(SCHOOL_ADMIN_OWN, levels=ADMIN_LEVELS) == {"school_id": "S1"}
    # a teacher-only action: the school's admin and the city are not the teacher
    own = frozenset({Level.SELF})
    assert covers(TEACHER_SELF, **OBJECT, levels=own)
    assert not covers(SCHOOL_ADMIN_OWN, **OBJECT, levels=own)
    assert not covers(CITY, **OBJECT, levels=own)
    # the school's admins or the city, not the district
    school_or_city = frozenset({Level.SCHOOL, Level.CITY})
    assert covers(SCHOOL_ADMIN_OWN, **OBJECT, levels=school_or_city)
    assert not covers(DISTRICT_OWN, **OBJECT, levels=school_or_city)
    assert covers(CITY, **OBJECT, levels=school_or_city)


def test_unknown_parts_of_an_object_never_match() -> None:
    """An object without a school or district is covered by nobody below the city (None is no scope)."""
    scopeless = principal(Role.SCHOOL_ADMIN)
    assert not covers(scopeless, ce_number="T1", school_id=None, district=None)
    assert not covers(DISTRICT_OWN, ce_number="T1", school_id="S1", district=None)
    assert not covers(principal(Role.TEACHER), ce_number=None)
    assert covers(CITY, ce_number=None, school_id=None, district=None)


def test_a_caller_with_several_roles_is_covered_by_the_most_specific_and_lists_by_the_widest() -> None:
    both = Principal(
        subject="p", roles=frozenset({Role.TEACHER, Role.PRINCIPAL}), scopes={"ce_number": "T1", "school_id": "S1"}
    )
    assert covering_level(both, **OBJECT) is Level.SELF
    assert covering_level(both, ce_number="T3", school_id="S1", district="D1") is Level.SCHOOL
    assert scope_filter(both) == {"school_id": "S1"}
    assert scope_filter(both, levels=ALL_LEVELS - {Level.SCHOOL}) == {"ce_number": "T1"}


def test_field_names_follow_the_collection() -> None:
    assert scope_filter(TEACHER_SELF, ce_number_field="_id") == {"_id": "T1"}
    assert scope_filter(DISTRICT_OWN, district_field="to_district") == {"to_district": "D1"}
    assert scope_filter(SCHOOL_ADMIN_OWN, school_field="sid") == {"sid": "S1"}


def test_a_use_case_may_widen_the_city_level() -> None:
    """Bills and statistics: the remote-training centre sees the whole city, like the city admin."""
    centre = principal(Role.REMOTE_CENTRE)
    wide = (Role.CITY_ADMIN, Role.REMOTE_CENTRE)
    assert not covers(centre, **OBJECT) and scope_filter(centre) is None
    assert covers(centre, **OBJECT, city_roles=wide) and scope_filter(centre, city_roles=wide) == {}
    assert covers(CITY, **OBJECT, city_roles=wide)
    assert not covers(DISTRICT_OTHER, **OBJECT, city_roles=wide)
