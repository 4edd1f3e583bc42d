"""The term's course list as an .xlsx download (按课程选课: 下载本期课程列表), Chinese headers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from enrollment.domain.catalogue import fen_to_yuan
from jijiao_kit.xlsx import rows_xlsx

HEADERS = [
    "期数",
    "课程编号",
    "课程名称",
    "项目",
    "学时类型",
    "学时",
    "培训费",
    "资料费",
    "收费单位",
    "课程类型",
    "学科",
    "学段",
    "名额",
    "已选人数",
]
PROGRAMMES = {
    "city": "全员培训",
    "district": "区级培训",
    "school": "校本培训",
    "special": "专项培训",
    "ability": "能力提升工程",
}
HOUR_TYPES = {"public": "公需科目", "professional": "专业科目", "elective": "个人选修"}
COURSE_TYPES = {"remote": "远程", "face_to_face": "面授", "micro": "微课"}
STAGES = {"kindergarten": "幼儿园", "primary": "小学", "junior": "初中", "senior": "高中", "vocational": "中职"}


def course_list_workbook(courses: Iterable[dict[str, Any]]) -> bytes:
    return rows_xlsx("课程列表", HEADERS, (_row(course) for course in courses))


def _row(course: dict[str, Any]) -> list[Any]:
    return [
        course["term"],
        course["code"],
        course["name"],
        PROGRAMMES.get(course.get("programme", ""), course.get("programme")),
        HOUR_TYPES.get(course.get("hour_type", ""), course.get("hour_type")),
        course.get("hours"),
        float(fen_to_yuan(course.get("training_fee_fen"))),
        float(fen_to_yuan(course.get("material_fee_fen"))),
        course.get("payee"),
        COURSE_TYPES.get(course.get("course_type", ""), course.get("course_type")),
        course.get("subject") or "通用",
        STAGES.get(course.get("stage") or "", "不限"),
        "不限" if course.get("capacity") is None else course["capacity"],
        int(course.get("taken", 0)),
    ]
