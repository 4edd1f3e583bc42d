"""Posts (资源、文章、成果), funds (经费) and studio evaluation indicators (工作室考核指标). Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any


class PostKind(StrEnum):
    RESOURCE = "resource"  # 资源
    ARTICLE = "article"  # 文章
    ACHIEVEMENT = "achievement"  # 成果
    ADVICE_REPORT = "advice_report"  # 合理建议或调研报告 (for education authorities)


def visible_post(post: Mapping[str, Any], *, reviewer: bool, ce_number: str | None) -> bool:
    """Only approved items are shown; reviewers see all, authors their own."""
    return post.get("status") == "approved" or reviewer or (ce_number is not None and post.get("author") == ce_number)


def post_order(post: Mapping[str, Any]) -> tuple[int, int]:
    """Pinned (置顶) first, then newest."""
    return (0 if post.get("pinned") else 1, -int(post.get("created_ms") or 0))


def funds_problem(items: Sequence[Mapping[str, Any]]) -> str | None:
    if not items:
        return "a budget plan or usage report lists at least one item"
    if any(not isinstance(i.get("amount"), int | float) or i["amount"] < 0 for i in items):
        return "amounts are not negative"
    return None


#: What the yearly task view can compute from the studio's own data (the evidence of an indicator).
TASK_CHECKS = {
    "annual_plan": "年度工作计划已发布",
    "activities_organised": "本年度活动均已填写小结且至少组织一次线下活动",
    "evaluations_done": "本年度成员考核已完成",
    "budget_planned": "本年度经费预算已提交",
    "funds_reported": "本年度经费使用报告已提交",
}

DEFAULT_YEARLY_INDICATORS: tuple[dict[str, Any], ...] = (
    {
        "name": "年度计划",
        "standard": "按时发布年度工作计划",
        "score": 10,
        "scoring_rules": "发布得满分",
        "check": "annual_plan",
    },
    {
        "name": "研修活动",
        "standard": "组织线下研修并完成活动小结",
        "score": 30,
        "scoring_rules": "每缺一次小结扣5分",
        "check": "activities_organised",
    },
    {
        "name": "成员考核",
        "standard": "完成全部成员年度考核",
        "score": 20,
        "scoring_rules": "完成得满分",
        "check": "evaluations_done",
    },
    {
        "name": "经费预算",
        "standard": "提交年度经费预算",
        "score": 10,
        "scoring_rules": "提交得满分",
        "check": "budget_planned",
    },
    {
        "name": "经费使用",
        "standard": "提交经费使用报告及票据",
        "score": 10,
        "scoring_rules": "提交得满分",
        "check": "funds_reported",
    },
)


def activities_organised(
    activities: Sequence[Mapping[str, Any]], year_start_ms: int, year_end_ms: int, now_ms: int
) -> bool:
    """At least one organised offline activity in the year, and no ended activity still without summary."""
    in_year = [
        a for a in activities if year_start_ms <= a["starts_ms"] < year_end_ms and a.get("status") == "published"
    ]
    ended = [a for a in in_year if a["ends_ms"] <= now_ms]
    return any(a["mode"] == "offline" and a.get("organised") for a in in_year) and all(
        a.get("organised") for a in ended
    )
