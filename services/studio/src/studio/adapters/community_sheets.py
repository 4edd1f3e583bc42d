"""The community's term-report tables as .xlsx (``jijiao_kit.xlsx``: user text is stored as text), with
the column names the 1602 summary prints (表4, 表6, 表10, 表12, 表13)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jijiao_kit.xlsx import rows_xlsx
from studio.domain.community import LEARNING_HEADERS, LEARNING_KEYS

Doc = Mapping[str, Any]
_GROUPING = {
    "district": ("区域", "研修社区各区学情分析"),
    "subject": ("学科(教师个人信息表的学科)", "研修社区各学科学情分析"),
}
_SUBJECT_COLUMNS = (
    ("subject", "学科"),
    ("workshops", "工作坊数"),
    ("participants", "参训人数"),
    ("resources", "共享资源数"),
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


def learning_xlsx(rows: Sequence[Doc], by: str) -> bytes:
    first, title = _GROUPING[by]
    return rows_xlsx(title, (first, *LEARNING_HEADERS), ([r["group"], *(r[k] for k in LEARNING_KEYS)] for r in rows))


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
