"""Studio types and how many members each admits (DOMAIN §8)."""

from __future__ import annotations

from enum import StrEnum


class StudioType(StrEnum):
    EXPERT = "expert"  # 教育专家工作室
    PRINCIPAL = "principal"  # 名校长工作室
    TEACHER = "teacher"  # 名教师工作室


#: Members to admit: expert and principal studios 5–8, teacher studios 8–12.
MEMBER_QUOTA: dict[StudioType, tuple[int, int]] = {
    StudioType.EXPERT: (5, 8),
    StudioType.PRINCIPAL: (5, 8),
    StudioType.TEACHER: (8, 12),
}


def member_quota(studio_type: StudioType) -> tuple[int, int]:
    return MEMBER_QUOTA[studio_type]


def has_assistants(studio_type: StudioType) -> bool:
    """Only expert studios have assistants (助手)."""
    return studio_type is StudioType.EXPERT


#: Online students per studio unless the city admin sets another cap.
DEFAULT_STUDENT_CAP = 50


def seat_cap(studio: dict[str, object], role: str) -> int:
    """The store-enforced maximum of the role's counter."""
    if role == "member":
        quota = studio["member_quota"]
        assert isinstance(quota, dict)
        return int(quota["max"])
    cap = studio.get("student_cap") or DEFAULT_STUDENT_CAP
    assert isinstance(cap, int)
    return cap
