"""Recruitment rules (报名与三轮志愿, DOMAIN §8): windows, rounds, preferences, quotas. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

ROUNDS = 3


class ApplicantRole(StrEnum):
    MEMBER = "member"  # 成员
    STUDENT = "student"  # 网络学员 (online student)


class Decision(StrEnum):
    ADMITTED = "admitted"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Window:
    start_ms: int
    end_ms: int

    def contains(self, at_ms: int) -> bool:
        return self.start_ms <= at_ms < self.end_ms


@dataclass(frozen=True)
class Schedule:
    """The application window and the three review windows, in order and not overlapping."""

    apply: Window
    rounds: tuple[Window, Window, Window]

    def problems(self) -> list[str]:
        out: list[str] = []
        windows = [self.apply, *self.rounds]
        for i, window in enumerate(windows):
            if window.end_ms <= window.start_ms:
                out.append(f"window {i} ends before it starts")
            if i and window.start_ms < windows[i - 1].end_ms:
                out.append(f"window {i} starts before window {i - 1} ends")
        return out

    def applying(self, at_ms: int) -> bool:
        return self.apply.contains(at_ms)

    def round_at(self, at_ms: int) -> int | None:
        """The review round (1–3) whose window holds ``at_ms``, or None."""
        for number, window in enumerate(self.rounds, start=1):
            if window.contains(at_ms):
                return number
        return None

    def finished(self, at_ms: int) -> bool:
        return at_ms >= self.rounds[-1].end_ms


def preference_problems(preferences: Sequence[str]) -> list[str]:
    """One to three studios, in order, none twice."""
    if not 1 <= len(preferences) <= ROUNDS:
        return ["one to three preferences"]
    if len(set(preferences)) != len(preferences):
        return ["a studio is named twice"]
    return []


def visible_in_round(application: dict[str, object], studio_id: str, round_number: int) -> bool:
    """A host sees an application in round k iff its k-th preference is their studio and it was not
    admitted by another studio before (admission withdraws the later preferences)."""
    prefs = application.get("prefs")
    if not isinstance(prefs, dict) or prefs.get(str(round_number)) != studio_id:
        return False
    return application.get("status") == "pending" or application.get("studio_id") == studio_id


def seat_counter(role: ApplicantRole) -> str:
    return "members" if role is ApplicantRole.MEMBER else "students"


def short_of_minimum(members: int, minimum: int) -> bool:
    """After round 3 a studio below its minimum is listed for the city admin (另行安排)."""
    return members < minimum
