"""Who registers which result, the current-year restriction, the hours source and pass statistics."""

from __future__ import annotations

from typing import Any

import pytest

from enrollment.domain.results import (
    Registrar,
    RegistrarKind,
    certificate_refusal,
    course_pass_stats,
    hours_source,
    registration_refusal,
    result_value,
)

CITY_COURSE = {"code": "c1", "programme": "city", "institution_id": "inst-1"}
SCHOOL_COURSE = {"code": "s1", "programme": "school", "school_id": "sch-1", "institution_id": None}


def refusal(
    registrar: Registrar, course: dict[str, Any], course_year: int = 2026, current_year: int = 2026
) -> str | None:
    return registration_refusal(registrar, course, course_year=course_year, current_year=current_year)


def test_city_registers_anything_of_any_year() -> None:
    city = Registrar(RegistrarKind.CITY)
    assert refusal(city, CITY_COURSE) is None
    assert refusal(city, SCHOOL_COURSE, course_year=2024) is None


def test_institution_registers_only_its_own_courses() -> None:
    assert refusal(Registrar(RegistrarKind.INSTITUTION, institution_id="inst-1"), CITY_COURSE) is None
    assert (
        refusal(Registrar(RegistrarKind.INSTITUTION, institution_id="inst-2"), CITY_COURSE) == "not_course_institution"
    )


def test_institution_without_scope_never_matches_a_course_without_institution() -> None:
    assert refusal(Registrar(RegistrarKind.INSTITUTION, institution_id=None), SCHOOL_COURSE) == "not_course_institution"


def test_school_admin_registers_own_school_based_courses_of_the_current_year() -> None:
    school = Registrar(RegistrarKind.SCHOOL, school_id="sch-1")
    assert refusal(school, SCHOOL_COURSE) is None


@pytest.mark.parametrize("course_year", [2025, 2024, 2027])
def test_school_admin_cannot_register_other_years(course_year: int) -> None:
    school = Registrar(RegistrarKind.SCHOOL, school_id="sch-1")
    assert refusal(school, SCHOOL_COURSE, course_year=course_year) == "result_year_closed"


def test_school_admin_cannot_register_platform_courses_or_other_schools() -> None:
    assert refusal(Registrar(RegistrarKind.SCHOOL, school_id="sch-1"), CITY_COURSE) == "not_school_course"
    assert refusal(Registrar(RegistrarKind.SCHOOL, school_id="sch-2"), SCHOOL_COURSE) == "not_school_course"


def test_other_roles_cannot_register() -> None:
    assert refusal(Registrar(RegistrarKind.NONE), CITY_COURSE) == "results_forbidden"


def test_result_values_and_sources() -> None:
    assert result_value(True) == "passed" and result_value(False) == "failed"
    assert hours_source("school") == "school_based"
    for programme in ("city", "district", "special", "ability"):
        assert hours_source(programme) == "platform_course"


def test_certificate_only_for_passed_active_selections() -> None:
    assert certificate_refusal({"status": "active", "result": "passed"}) is None
    assert certificate_refusal({"status": "active", "result": "failed"}) == "result_not_passed"
    assert certificate_refusal({"status": "active", "result": None}) == "result_not_passed"
    assert certificate_refusal({"status": "cancelled", "result": "passed"}) == "selection_cancelled"


def test_course_pass_stats_counts_not_passed_as_everyone_else() -> None:
    selections: list[dict[str, Any]] = [
        {"course_code": "a", "course_name": "A", "status": "active", "result": "passed"},
        {"course_code": "a", "course_name": "A", "status": "active", "result": "passed"},
        {"course_code": "a", "course_name": "A", "status": "active", "result": "failed"},
        {"course_code": "a", "course_name": "A", "status": "active", "result": None},
        {"course_code": "a", "course_name": "A", "status": "cancelled", "result": "passed"},
        {"course_code": "b", "course_name": "B", "status": "active", "result": "failed"},
    ]
    stats = {s.course_code: s for s in course_pass_stats(selections, [{"code": "z", "name": "Z"}])}
    assert (stats["a"].passed, stats["a"].not_passed, stats["a"].total, stats["a"].pass_rate) == (2, 2, 4, 0.5)
    assert (stats["b"].passed, stats["b"].total, stats["b"].pass_rate) == (0, 1, 0.0)
    assert (stats["z"].total, stats["z"].pass_rate) == (0, None)
