"""公告: each level addresses the levels below it and teachers, within its scope."""

from __future__ import annotations

from enrollment.domain.announcements import Audience, Level, Reader, audience_refusal, visible_to

D, S, T = Audience.DISTRICT_ADMINS, Audience.SCHOOL_ADMINS, Audience.TEACHERS


def test_each_level_addresses_only_below_itself_and_teachers() -> None:
    assert audience_refusal(Level.CITY, {D, S, T}) is None
    assert audience_refusal(Level.DISTRICT, {S, T}) is None
    assert audience_refusal(Level.DISTRICT, {D}) == "announcement_audience_forbidden"
    assert audience_refusal(Level.SCHOOL, {T}) is None
    assert audience_refusal(Level.SCHOOL, {S}) == "announcement_audience_forbidden"
    assert audience_refusal(Level.SCHOOL, set()) == "announcement_audience_required"


def test_readers_see_what_is_addressed_to_them_in_their_scope() -> None:
    teacher = visible_to(Reader(T, district="天河区", school_id="s1"))
    assert teacher == [
        {"level": "city", "to_teachers": True},
        {"level": "district", "district": "天河区", "to_teachers": True},
        {"level": "school", "school_id": "s1", "to_teachers": True},
    ]
    school_admin = visible_to(Reader(S, district="天河区", school_id="s1"))
    assert school_admin == [
        {"level": "city", "to_school_admins": True},
        {"level": "district", "district": "天河区", "to_school_admins": True},
    ]
    assert visible_to(Reader(D, district="天河区")) == [{"level": "city", "to_district_admins": True}]
