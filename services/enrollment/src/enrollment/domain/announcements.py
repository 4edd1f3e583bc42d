"""Announcements (公告, DOMAIN §1): notices addressed to the admins of a level below the author
(city → district → school) and to teachers, within the author's own scope. Pure, no I/O.

- the city addresses district admins, school admins and teachers of the whole city;
- a district admin addresses school admins and teachers of the district;
- a school admin (or the principal) addresses the school's teachers.
Who reads what follows from the same rule: an announcement reaches an audience it names, inside the
author's scope. Authors always read their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    SCHOOL = "school"


class Audience(StrEnum):
    DISTRICT_ADMINS = "district_admins"
    SCHOOL_ADMINS = "school_admins"
    TEACHERS = "teachers"


#: Whom each level may address (always below itself, and teachers).
ADDRESSABLE: dict[Level, frozenset[Audience]] = {
    Level.CITY: frozenset(Audience),
    Level.DISTRICT: frozenset({Audience.SCHOOL_ADMINS, Audience.TEACHERS}),
    Level.SCHOOL: frozenset({Audience.TEACHERS}),
}


@dataclass(frozen=True)
class Reader:
    """Where someone stands: their audience and scope (district, school)."""

    audience: Audience
    district: str | None = None
    school_id: str | None = None


def audience_refusal(level: Level, audiences: set[Audience]) -> str | None:
    if not audiences:
        return "announcement_audience_required"
    if not audiences <= ADDRESSABLE[level]:
        return "announcement_audience_forbidden"
    return None


def visible_to(reader: Reader) -> list[dict[str, object]]:
    """The announcements a reader may read, as alternatives over stored fields: the level and scope of
    the author and a flag per audience (``to_<audience>``: explicit flags, not array tests, which the
    embedded store does not evaluate like MongoDB)."""
    flag = f"to_{reader.audience.value}"
    alternatives: list[dict[str, object]] = [{"level": Level.CITY.value, flag: True}]
    if reader.district and reader.audience is not Audience.DISTRICT_ADMINS:
        alternatives.append({"level": Level.DISTRICT.value, "district": reader.district, flag: True})
    if reader.school_id and reader.audience is Audience.TEACHERS:
        alternatives.append({"level": Level.SCHOOL.value, "school_id": reader.school_id, flag: True})
    return alternatives
