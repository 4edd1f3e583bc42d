"""The community's term-report tables as .xlsx (``jijiao_kit.xlsx``: user text is stored as text), with
the column names the 1602 summary prints (表4, 表6, 表10, 表12, 表13), each table its own sheet."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jijiao_kit.xlsx import rows_xlsx
from studio.domain.community import ASSIGNMENT_COLUMNS, LEARNING_COLUMNS

Doc = Mapping[str, Any]
#: 表4 by district (by subject: the grouping column as the seed's learning table by subject, 表2, prints it).
_LEARNING = {
    "district": ("区域", "研修社区各区学情分析"),
    "subject": ("学科(教师个人信息表的学科)", "研修社区各学科学情分析"),
}
#: 表12 各区研修作业提交情况, 表13 各学科研修作业情况 (its grouping column has a space before the parenthesis).
_ASSIGNMENTS = {
    "district": ("区域", "各区研修作业提交情况"),
    "subject": ("学科 (教师个人信息表的学科)", "各学科研修作业情况"),
}
_SUBJECT_COLUMNS = (
    ("subject", "学科"),
    ("workshops", "工作坊数"),
    ("participants", "参训人数"),
    ("resources", "共享资源数"),
    ("logs", "研修日志数"),
    ("topics", "研讨话题数"),
    ("submitted", "研修作业提交数"),
    ("submission_rate", "研修作业提交率"),
    ("recommended", "推荐优秀数"),
    ("excellent_rate", "推荐优秀率"),
)
_KINDS = {
    "host": "优秀主持人",
    "assistant": "优秀研修助理",
    "resource": "优秀资源",
    "school": "优秀学校",
    "class_brief": "优秀班级简报",
}


def _table(title: str, first: str, columns: Sequence[tuple[str, str]], rows: Sequence[Doc]) -> bytes:
    headers = (first, *(header for _, header in columns))
    return rows_xlsx(title, headers, ([r["group"], *(r[key] for key, _ in columns)] for r in rows))


def learning_xlsx(rows: Sequence[Doc], by: str) -> bytes:
    """表4 研修社区学情分析."""
    first, title = _LEARNING[by]
    return _table(title, first, LEARNING_COLUMNS, rows)


def assignments_xlsx(rows: Sequence[Doc], by: str) -> bytes:
    """表12 (by district, 总计) or 表13 (by the teacher's subject, 合计)."""
    first, title = _ASSIGNMENTS[by]
    return _table(title, first, ASSIGNMENT_COLUMNS, rows)


def subjects_xlsx(rows: Sequence[Doc]) -> bytes:
    return rows_xlsx(
        "研修社区各学科情况",
        [label for _, label in _SUBJECT_COLUMNS],
        ([r[key] for key, _ in _SUBJECT_COLUMNS] for r in rows),
    )


def satisfaction_xlsx(distribution: Doc) -> bytes:
    """表6: the total is printed on the first row only, as in the seed."""
    rows = [
        [r["label"], r["count"], distribution["total"] if i == 0 else None, r["percent"]]
        for i, r in enumerate(distribution["rows"])
    ]
    rows.append(["一般以上", None, None, distribution["fair_or_better"]])
    return rows_xlsx("研修类课程满意度", ("满意程度", "选择人次", "总人次", "所占百分比"), rows)


def assistants_xlsx(rows: Sequence[Doc]) -> bytes:
    return rows_xlsx(
        "研修助理工作情况",
        ("区域", "配置助理数", "完成工作数", "完成比例"),
        ([r["district"], r["configured"], r["completed"], r["completion_rate"]] for r in rows),
    )


def recommendations_xlsx(docs: Sequence[Doc]) -> bytes:
    return rows_xlsx(
        "督学推荐",
        ("推荐类别", "推荐对象", "推荐理由"),
        ([_KINDS.get(d["kind"], d["kind"]), d["target"], d.get("reason", "")] for d in docs),
    )
