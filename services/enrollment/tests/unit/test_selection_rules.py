import pytest

from enrollment.domain.selection import (
    Actor,
    active_key,
    course_refusal,
    deletion_refusal,
    selection_refusal,
    teacher_refusal,
)

TEACHER = {"_id": "T1", "status": "active", "special_user": False, "school_id": "S1", "district": "天河区"}


def test_active_key() -> None:
    assert active_key("2602", "T1", "C1") == "2602:T1:C1"


def test_teacher_refusals() -> None:
    assert teacher_refusal(TEACHER) is None
    assert teacher_refusal({**TEACHER, "special_user": True}) == "special_user"
    for status in ("left", "retired", "other"):
        assert teacher_refusal({**TEACHER, "status": status}) == "teacher_not_active"


@pytest.mark.parametrize("actor", [Actor.TEACHER, Actor.SCHOOL_ADMIN, Actor.CITY_ADMIN])
def test_selection_only_inside_the_window(actor: Actor) -> None:
    assert selection_refusal(window_open=True, actor=actor) is None
    assert selection_refusal(window_open=False, actor=actor) == "window_closed"


def test_course_refusals() -> None:
    ability = {"programme": "ability"}
    assert course_refusal(ability, TEACHER, actor=Actor.SCHOOL_ADMIN) == "ability_collective_forbidden"
    assert course_refusal(ability, TEACHER, actor=Actor.TEACHER) == "ability_plan_required"
    assert course_refusal(ability, TEACHER, actor=Actor.TEACHER, via_ability_project=True) is None
    assert course_refusal({"programme": "special"}, TEACHER, actor=Actor.TEACHER) == "special_application_required"
    assert (
        course_refusal({"programme": "school", "school_id": "S2"}, TEACHER, actor=Actor.SCHOOL_ADMIN)
        == "course_not_for_school"
    )
    assert course_refusal({"programme": "school", "school_id": "S1"}, TEACHER, actor=Actor.SCHOOL_ADMIN) is None
    assert (
        course_refusal({"programme": "district", "district": "海珠区"}, TEACHER, actor=Actor.TEACHER)
        == "course_not_for_district"
    )
    assert course_refusal({"programme": "city"}, TEACHER, actor=Actor.TEACHER) is None


def refusal(actor: Actor, window_open: bool, **kw: bool) -> str | None:
    args = {"institution_of_course": False, "paid": False, "locked_compulsory": False, **kw}
    return deletion_refusal(actor=actor, window_open=window_open, **args)


@pytest.mark.parametrize("actor", [Actor.TEACHER, Actor.SCHOOL_ADMIN, Actor.CITY_ADMIN])
def test_teachers_and_admins_delete_only_inside_the_window(actor: Actor) -> None:
    assert refusal(actor, True) is None
    assert refusal(actor, False) == "window_closed"


def test_after_the_window_only_the_course_institution_deletes() -> None:
    assert refusal(Actor.INSTITUTION, False, institution_of_course=True) is None
    assert refusal(Actor.INSTITUTION, False) == "not_course_institution"
    assert refusal(Actor.INSTITUTION, True) == "not_course_institution"


def test_paid_and_locked_selections_are_not_deleted() -> None:
    assert refusal(Actor.SCHOOL_ADMIN, True, paid=True) == "selection_paid"
    assert refusal(Actor.TEACHER, True, locked_compulsory=True) == "ability_compulsory_locked"
    assert refusal(Actor.SYSTEM, True) == "forbidden"


@pytest.mark.parametrize("actor", [Actor.TEACHER, Actor.SCHOOL_ADMIN, Actor.CITY_ADMIN, Actor.INSTITUTION])
def test_a_selection_with_a_passed_result_is_never_deleted(actor: Actor) -> None:
    """Its hours are in the hours bank; correcting the result (to failed) is what takes them back."""
    assert refusal(actor, True, institution_of_course=True, passed=True) == "selection_passed"
    assert refusal(actor, True, institution_of_course=True, passed=False) is None


def test_a_school_admin_deletes_a_school_based_selection_of_their_school_at_any_time() -> None:
    assert refusal(Actor.SCHOOL_ADMIN, False, own_school_course=True) is None
    assert refusal(Actor.SCHOOL_ADMIN, False, own_school_course=False) == "window_closed"
    assert refusal(Actor.TEACHER, False, own_school_course=True) == "window_closed"
    assert refusal(Actor.SCHOOL_ADMIN, False, own_school_course=True, passed=True) == "selection_passed"
