"""Bulletins (公告简报, DOMAIN §8): kinds, their limits and which may change after publishing. Pure."""

from __future__ import annotations

from enum import StrEnum


class BulletinKind(StrEnum):
    ANNOUNCEMENT = "announcement"  # 公告
    BRIEF = "brief"  # 简报
    REGULATION = "regulation"  # 工作室章程: only one
    CYCLE_PLAN = "cycle_plan"  # 周期发展规划: many; the home page shows the latest
    ANNUAL_PLAN = "annual_plan"  # 年度工作计划: at most one per calendar year, three in all


MAX_ANNUAL_PLANS = 3
#: Kinds that are fixed once published (no edit, no delete).
FIXED_WHEN_PUBLISHED = frozenset({BulletinKind.REGULATION, BulletinKind.CYCLE_PLAN, BulletinKind.ANNUAL_PLAN})


def slot(studio_id: str, kind: BulletinKind, year: int | None) -> str | None:
    """The unique key that keeps the one-of limits in the store (None: no such limit)."""
    if kind is BulletinKind.REGULATION:
        return f"{studio_id}:regulation"
    if kind is BulletinKind.ANNUAL_PLAN:
        return f"{studio_id}:annual:{year}"
    return None


def year_problem(kind: BulletinKind, year: int | None, cycle: tuple[int, int]) -> str | None:
    if kind is BulletinKind.ANNUAL_PLAN:
        if year is None:
            return "an annual plan names its year"
        if not cycle[0] <= year <= cycle[1]:
            return f"the year of an annual plan lies in the cycle {cycle[0]}–{cycle[1]}"
    return None


def may_change(kind: BulletinKind, status: str) -> bool:
    return status != "published" or kind not in FIXED_WHEN_PUBLISHED
