from studio.domain.recruitment import (
    ApplicantRole,
    Schedule,
    Window,
    preference_problems,
    seat_counter,
    short_of_minimum,
    visible_in_round,
)
from studio.domain.studios import StudioType, member_quota, seat_cap


def schedule() -> Schedule:
    return Schedule(Window(0, 10), (Window(10, 20), Window(20, 30), Window(30, 40)))


def test_windows_in_order_and_rounds_by_time() -> None:
    s = schedule()
    assert s.problems() == []
    assert s.applying(5) and not s.applying(10)
    assert [s.round_at(t) for t in (5, 10, 25, 39, 40)] == [None, 1, 2, 3, None]
    assert s.finished(40) and not s.finished(39)
    overlapping = Schedule(Window(0, 10), (Window(5, 20), Window(20, 30), Window(30, 40)))
    assert overlapping.problems()
    backwards = Schedule(Window(10, 0), (Window(10, 20), Window(20, 30), Window(30, 40)))
    assert backwards.problems()


def test_preferences_one_to_three_distinct() -> None:
    assert preference_problems(["a"]) == [] and preference_problems(["a", "b", "c"]) == []
    assert preference_problems([]) and preference_problems(["a", "b", "c", "d"]) and preference_problems(["a", "a"])


def test_round_visibility_and_withdrawal_of_later_preferences() -> None:
    app: dict[str, object] = {"prefs": {"1": "s1", "2": "s2"}, "status": "pending"}
    assert visible_in_round(app, "s1", 1) and visible_in_round(app, "s2", 2) and not visible_in_round(app, "s2", 1)
    admitted: dict[str, object] = {**app, "status": "admitted", "studio_id": "s1"}
    assert visible_in_round(admitted, "s1", 1) and not visible_in_round(admitted, "s2", 2)


def test_quota_per_type_and_counters() -> None:
    assert member_quota(StudioType.EXPERT) == (5, 8) == member_quota(StudioType.PRINCIPAL)
    assert member_quota(StudioType.TEACHER) == (8, 12)
    studio = {"member_quota": {"min": 8, "max": 12}, "student_cap": 30}
    assert seat_cap(studio, "member") == 12 and seat_cap(studio, "student") == 30
    assert seat_counter(ApplicantRole.MEMBER) == "members" and seat_counter(ApplicantRole.STUDENT) == "students"
    assert short_of_minimum(7, 8) and not short_of_minimum(8, 8)
