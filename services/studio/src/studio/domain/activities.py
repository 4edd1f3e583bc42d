"""Stages and activities (研修阶段与活动, DOMAIN §8): kinds, parts, visibility and completion. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any


class Mode(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


ONLINE_TYPES = frozenset(
    {"online_research", "observation", "seminar", "lesson_design"}
)  # 线上研修 观摩学习 专题研讨 教学设计
OFFLINE_TYPES = frozenset({"offline_research", "school_sending", "school_diagnosis"})  # 线下研修 送教到校 下校诊断
SEGMENT_KINDS = frozenset({"article", "documents", "video", "resources", "discussion", "evaluation"})
OFFLINE_OPTIONS = ("checkin", "materials", "outputs", "evaluation")
#: Options a participant does (the host's materials are not a participant's part).
PARTICIPANT_OPTIONS = frozenset({"checkin", "outputs", "evaluation"})
MAX_SEGMENTS = 20
MAX_HOURS = 24.0


def activity_problems(activity: Mapping[str, Any]) -> list[str]:
    """Everything wrong with an activity as the host submits it (empty when fine)."""
    out: list[str] = []
    mode = activity.get("mode")
    kind = activity.get("type")
    if mode == Mode.ONLINE:
        if kind not in ONLINE_TYPES:
            out.append(f"online type must be one of {sorted(ONLINE_TYPES)}")
        segments = activity.get("segments") or []
        if not 1 <= len(segments) <= MAX_SEGMENTS:
            out.append(f"an online activity has 1 to {MAX_SEGMENTS} segments")
        for seg in segments:
            if seg.get("kind") not in SEGMENT_KINDS:
                out.append(f"segment kind must be one of {sorted(SEGMENT_KINDS)}")
    elif mode == Mode.OFFLINE:
        if kind not in OFFLINE_TYPES:
            out.append(f"offline type must be one of {sorted(OFFLINE_TYPES)}")
        if not activity.get("place"):
            out.append("an offline activity has a place")
        hours = activity.get("hours")
        if not isinstance(hours, int | float) or not 0 < hours <= MAX_HOURS:
            out.append(f"an offline activity earns more than 0 and at most {MAX_HOURS} hours")
        for name in activity.get("options") or {}:
            if name not in OFFLINE_OPTIONS:
                out.append(f"option must be one of {list(OFFLINE_OPTIONS)}")
    else:
        out.append("mode is online or offline")
    starts, ends = activity.get("starts_ms"), activity.get("ends_ms")
    if not isinstance(starts, int) or not isinstance(ends, int) or ends <= starts:
        out.append("an activity ends after it starts")
    return out


def required_parts(activity: Mapping[str, Any]) -> set[str]:
    """The parts a participant must do to complete the activity: required segments (by id) online,
    required participant options (by name) offline."""
    if activity.get("mode") == Mode.ONLINE:
        return {seg["id"] for seg in activity.get("segments") or [] if seg.get("required")}
    options = activity.get("options") or {}
    return {name for name, opt in options.items() if name in PARTICIPANT_OPTIONS and opt.get("required")}


def is_part(activity: Mapping[str, Any], part: str) -> bool:
    if activity.get("mode") == Mode.ONLINE:
        return any(seg["id"] == part for seg in activity.get("segments") or [])
    return part in PARTICIPANT_OPTIONS and part in (activity.get("options") or {})


def completed(activity: Mapping[str, Any], done: Iterable[str]) -> bool:
    """A participant completed the activity when every required part is done."""
    return required_parts(activity) <= set(done)


def open_to(mode: str, standing: str) -> bool:
    """Online activities are open to members and online students, offline ones to members only."""
    if standing in ("host", "assistant", "member"):
        return True
    return standing == "student" and mode == Mode.ONLINE


def may_write_summary(ends_ms: int, now_ms: int) -> bool:
    """The summary (活动小结) is written after the activity ends."""
    return now_ms >= ends_ms


def uses_checkin(activity: Mapping[str, Any]) -> bool:
    return activity.get("mode") == Mode.OFFLINE and "checkin" in (activity.get("options") or {})


#: Parts a participant does by submitting something (the others are marked done: reading, watching).
SUBMITTED_KINDS = frozenset({"resources", "discussion", "evaluation", "outputs"})


def part_kind(activity: Mapping[str, Any], part: str) -> str | None:
    """The kind of a participant's part: a segment's kind online, the option's name offline."""
    if activity.get("mode") == Mode.ONLINE:
        return next((seg["kind"] for seg in activity.get("segments") or [] if seg["id"] == part), None)
    return part if is_part(activity, part) else None


def evaluation_items(activity: Mapping[str, Any], part: str) -> list[Mapping[str, Any]]:
    if activity.get("mode") == Mode.ONLINE:
        seg: Mapping[str, Any] = next((s for s in activity.get("segments") or [] if s["id"] == part), {})
        return list(seg.get("items") or [])
    return list(((activity.get("options") or {}).get("evaluation") or {}).get("items") or [])


def submission_problem(
    activity: Mapping[str, Any], part: str, *, text: str | None, files: int, answers: Mapping[str, Any]
) -> str | None:
    """What is wrong with a participant's submission to a part (None when fine)."""
    kind = part_kind(activity, part)
    if kind not in SUBMITTED_KINDS:
        return f"{part} takes no submissions"
    if kind in ("resources", "outputs") and files < 1:
        return "upload at least one file"
    if kind == "discussion" and not (text or "").strip():
        return "a post or comment has text"
    if kind == "evaluation":
        items = {str(i["id"]): i for i in evaluation_items(activity, part)}
        if set(answers) != set(items):
            return "answer every evaluation item"
        for key, item in items.items():
            answer = answers[key]
            if item.get("kind") == "objective":
                if not isinstance(answer, int | float) or not 0 <= answer <= float(item.get("max_score") or 0):
                    return f"item {key}: a score from 0 to {item.get('max_score')}"
            elif not isinstance(answer, str) or not answer.strip():
                return f"item {key}: a written answer"
    return None
