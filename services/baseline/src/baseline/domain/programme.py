"""Rules of the research-base programme (DOMAIN §10, research-base-program-manual.txt). Pure, no I/O.

Rules return a refusal code (or None); ``PROBLEMS`` maps every code to its HTTP status, Chinese title and
English detail, so the API, the Excel import's per-row report and the tests speak the same codes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from baseline.domain.quota import BATCH_SIZE

#: The stages of the bases (幼儿园, 小学, 初中, 高中).
STAGES: dict[str, str] = {"kindergarten": "幼儿园", "primary": "小学", "junior": "初中", "senior": "高中"}
#: 研修学习类型.
DEMAND_TYPES: dict[str, str] = {"exchange": "交换学习", "lodging": "供住宿", "shadowing": "跟岗学习"}
REMARK_MAX_CHARS = 30
#: 每批次选派的研修人员不超过5名.
TRAINEES_PER_BATCH = BATCH_SIZE
REFLECTION_MAX_CHARS = 10_000
#: What one trainee may hold: reflections (deleting one frees its place) and uploaded images.
REFLECTIONS_PER_TRAINEE = 50
IMAGES_PER_TRAINEE = 100
#: Outcomes (学习成果) within three months after the stay.
OUTCOME_WINDOW_MONTHS = 3
#: 选择1-2个实验区 for the reward.
MAX_REWARDED_ZONES = 2
#: A stay is two weeks: from its first to its last day, 10 to 15 days (weekends included).
STAY_MIN_DAYS, STAY_MAX_DAYS = 10, 15
#: Availability: "ample" while at least this share of a stage's places is free.
AMPLE_SHARE = 0.5

_YEAR = re.compile(r"^(\d{4})-(\d{4})$")


class Availability(StrEnum):
    AMPLE = "ample"
    MODERATE = "moderate"
    NONE = "none"


AVAILABILITY_LABELS = {Availability.AMPLE: "名额充足", Availability.MODERATE: "名额适量", Availability.NONE: "无名额"}


def parse_year(year: str) -> int | None:
    """The first calendar year of an academic year such as ``2019-2020`` (None if malformed)."""
    match = _YEAR.match(year)
    if not match or int(match.group(2)) != int(match.group(1)) + 1:
        return None
    return int(match.group(1))


def year_after(year: str) -> str:
    first = parse_year(year)
    assert first is not None, year
    return f"{first + 1}-{first + 2}"


def year_before(year: str) -> str:
    first = parse_year(year)
    assert first is not None, year
    return f"{first - 1}-{first}"


def first_refusal(*checks: tuple[bool, str]) -> str | None:
    """The one table-driven form of every rule below: the code of the first (condition, code) row
    whose condition holds, None when none does."""
    return next((code for refused, code in checks if refused), None)


def deadlines_refusal(*, demand: datetime, personnel: datetime, report: datetime) -> str | None:
    """Demands close first, then the personnel list, then reporting (报到)."""
    return first_refusal((not demand < personnel <= report, "deadline_order"))


def passed(now: datetime, deadline: datetime) -> bool:
    return now > deadline


def availability(free: int, places: int) -> Availability:
    """The hint shown per stage: none when nothing is left, ample while half or more is free."""
    if free <= 0 or places <= 0:
        return Availability.NONE
    return Availability.AMPLE if free >= places * AMPLE_SHARE else Availability.MODERATE


def stay_refusal(starts_on: date, ends_on: date) -> str | None:
    days = (ends_on - starts_on).days + 1
    return first_refusal((not STAY_MIN_DAYS <= days <= STAY_MAX_DAYS, "stay_not_two_weeks"))


def remark_refusal(remark: str | None) -> str | None:
    return first_refusal((remark is not None and len(remark.strip()) > REMARK_MAX_CHARS, "remark_too_long"))


def demand_refusal(*, now: datetime, deadline: datetime, stage_free: int, remark: str | None) -> str | None:
    """Before the deadline, a stage with places left, a remark of at most 30 characters. The zone's
    remaining quota and the stage's remaining places are reserved by the store (never checked here)."""
    return first_refusal(
        (passed(now, deadline), "demand_deadline_passed"),
        (stage_free <= 0, "stage_full"),
        (remark_refusal(remark) is not None, "remark_too_long"),
    )


def allocation_refusal(demand: Mapping[str, Any], *, batch_year: str, batch_stage: str, places: int) -> str | None:
    """A batch goes to the zone of an approved demand of the batch's year and stage, for at most what is
    left of the demand (the demand's counter is taken by the store; this reads what the caller saw)."""
    return first_refusal(
        (demand.get("status") != "approved", "demand_not_approved"),
        (demand.get("year") != batch_year, "demand_year_mismatch"),
        (demand.get("stage") != batch_stage, "stage_mismatch"),
        (places > int(demand.get("unallocated", 0)), "demand_exceeded"),
    )


def reward_refusal(*, today: date, last_stay_ends: date | None) -> str | None:
    """Rewards are picked at the end of the academic year: once the last stay of the year is over."""
    return first_refusal((last_stay_ends is not None and today <= last_stay_ends, "year_not_over"))


def personnel_refusal(*, now: datetime, deadline: datetime, confirmed: bool, by_centre: bool) -> str | None:
    """The zone contact manages trainees until the personnel deadline and until confirming; then only
    the centre changes them."""
    return first_refusal(
        (not by_centre and confirmed, "personnel_confirmed"),
        (not by_centre and passed(now, deadline), "personnel_deadline_passed"),
    )


def report_refusal(*, now: datetime, deadline: datetime, confirmed: bool) -> str | None:
    return first_refusal(
        (not confirmed, "personnel_not_confirmed"),
        (passed(now, deadline), "report_deadline_passed"),
    )


def check_in_refusal(*, today: date, starts_on: date, ends_on: date) -> str | None:
    """签到 only during the stay (not before it starts, not after it ends)."""
    return first_refusal((today < starts_on, "stay_not_started"), (today > ends_on, "stay_over"))


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in range(day.day, 27, -1):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    return date(year, month, min(day.day, 28))


def outcome_due(ends_on: date) -> date:
    """The last day to upload the outcome report: three months after the stay's last day."""
    return add_months(ends_on, OUTCOME_WINDOW_MONTHS)


def outcome_refusal(*, today: date, ends_on: date) -> str | None:
    """From the stay's last day (the report may be written there) until three months after it."""
    return first_refusal((today < ends_on, "stay_not_over"), (today > outcome_due(ends_on), "outcome_window_closed"))


def sharing_refusal(*, today: date, ends_on: date, shared_on: date) -> str | None:
    """The sharing session (分享报告) in the zone, within three months after the stay: recorded from the
    stay's last day until the window closes, for a day from the stay's last day to today."""
    return first_refusal(
        (today < ends_on, "sharing_not_open"),
        (today > outcome_due(ends_on), "sharing_window_closed"),
        (not ends_on <= shared_on <= today, "sharing_date_invalid"),
    )


def reminder_due(*, today: date, ends_on: date, days_before: int = 14) -> bool:
    """Outcome reminders go out in the last ``days_before`` days of the window."""
    due = outcome_due(ends_on)
    return due - timedelta(days=days_before) <= today <= due


def overdue(*, today: date, ends_on: date) -> bool:
    return today > outcome_due(ends_on)


def reflection_refusal(text_chars: int) -> str | None:
    return first_refusal(
        (text_chars == 0, "reflection_empty"),
        (text_chars > REFLECTION_MAX_CHARS, "reflection_too_long"),
    )


PROBLEMS: dict[str, tuple[int, str, str]] = {
    "year_invalid": (422, "学年格式应为“2019-2020”", "An academic year is written as 2019-2020."),
    "year_exists": (409, "该学年已创建", "This academic year exists."),
    "year_not_found": (404, "学年不存在", "No such academic year."),
    "deadline_order": (
        422,
        "截止时间顺序有误：需求申报早于人员确认，人员确认不晚于报到",
        "The demand deadline must precede the personnel deadline, which must not follow the report deadline.",
    ),
    "base_exists": (409, "研修基地已存在", "A base of this name exists."),
    "base_not_found": (404, "研修基地不存在", "No such base."),
    "stage_invalid": (422, "学段无效", "Unknown stage."),
    "zone_exists": (409, "实验区已存在", "A zone of this name exists."),
    "zone_not_found": (404, "实验区不存在", "No such zone."),
    "batch_not_found": (404, "研修批次不存在", "No such batch."),
    "stay_not_two_weeks": (422, "研修时间应为两周", "A stay lasts two weeks (10 to 15 days)."),
    "demand_deadline_passed": (409, "需求填报已截止", "The demand deadline has passed."),
    "stage_full": (409, "该学段已无名额", "This stage has no places left."),
    "remark_too_long": (422, "备注请输入30个字以内", "The remark is at most 30 characters."),
    "quota_exhausted": (409, "本实验区剩余名额不足", "The zone's remaining quota is smaller than the request."),
    "demand_not_found": (404, "研修需求不存在", "No such demand."),
    "demand_reviewed": (409, "该需求已审核", "The demand has been reviewed."),
    "batch_full": (409, "该批次已分配满", "The batch has no room for another zone."),
    "already_allocated": (409, "该批次已分配给该实验区", "The batch is already allocated to this zone."),
    "stage_mismatch": (409, "批次学段与需求不符", "The batch is of another stage than the demand."),
    "demand_year_mismatch": (409, "批次学年与需求不符", "The batch is of another academic year than the demand."),
    "demand_not_approved": (409, "该需求未通过审核，不能分配", "Only an approved demand gets batches."),
    "demand_exceeded": (
        409,
        "超出该需求尚未分配的名额",
        "The allocation asks for more places than the demand has left unallocated.",
    ),
    "not_allocated": (404, "该批次未分配给本实验区", "The batch is not allocated to this zone."),
    "batch_trainees_full": (
        409,
        "每批次研修人员不超过5名（或已达到分配名额）",
        "The batch holds at most 5 trainees of a zone (or its allocated places).",
    ),
    "personnel_confirmed": (
        409,
        "研修人员名单已确认，如需变更请联系中心",
        "The list is confirmed; only the centre changes it.",
    ),
    "personnel_deadline_passed": (409, "研修人员管理已截止", "The personnel deadline has passed."),
    "personnel_empty": (409, "请先添加研修人员", "Add trainees before confirming."),
    "personnel_changed": (
        409,
        "研修人员名单刚被修改，请刷新后重试",
        "The list changed since it was read (an add, change or removal); read it again and retry.",
    ),
    "trainee_not_found": (404, "研修人员不存在", "No such trainee."),
    "personnel_not_confirmed": (409, "研修人员名单尚未确认", "The list is not confirmed yet."),
    "report_deadline_passed": (409, "报到已截止", "The report deadline has passed."),
    "already_reported": (409, "已报到", "Already reported."),
    "stay_not_started": (409, "研修尚未开始，不能签到", "The stay has not started."),
    "stay_over": (409, "研修已结束", "The stay is over."),
    "already_checked_in": (409, "已签到", "Already checked in."),
    "reflection_empty": (422, "心得内容不能为空", "A reflection needs text."),
    "reflection_too_long": (422, "心得内容不超过10000字", "A reflection has at most 10,000 characters of text."),
    "reflection_not_found": (404, "心得不存在", "No such reflection."),
    "reflection_limit": (409, "每位研修人员最多提交50篇心得", "A trainee holds at most 50 reflections."),
    "reflection_excellent": (
        409,
        "该心得已被评为优秀，不能删除（如需删除请联系中心取消优秀）",
        "The centre marked this reflection excellent; it cannot be deleted while marked.",
    ),
    "image_limit": (409, "每位研修人员最多上传100张图片", "A trainee uploads at most 100 images."),
    "image_not_found": (404, "图片不存在", "No such image."),
    "image_invalid": (422, "图片格式无效（仅支持 JPEG、PNG）", "The image is not a JPEG or PNG."),
    "image_too_large": (413, "图片过大", "The image is too large."),
    "stay_not_over": (409, "研修最后一天起方可上传学习成果", "Outcomes come from the last day of the stay."),
    "outcome_window_closed": (409, "学习成果须在研修结束三个月内上传", "The three-month window has closed."),
    "outcome_exists": (409, "学习成果已上传", "The outcome report was uploaded already."),
    "year_not_over": (
        409,
        "本学年研修尚未全部结束，暂不能评选奖励",
        "Rewards are picked once the year's last stay is over.",
    ),
    "sharing_not_open": (
        409,
        "研修最后一天起方可记录分享报告",
        "The sharing session is recorded from the stay's last day.",
    ),
    "sharing_window_closed": (
        409,
        "分享报告须在研修结束三个月内记录",
        "The sharing session is recorded within three months after the stay.",
    ),
    "sharing_date_invalid": (
        422,
        "分享日期应在研修最后一天至今天之间",
        "The sharing day lies between the stay's last day and today.",
    ),
    "reward_limit": (409, "每学年最多奖励两个实验区", "At most two zones are rewarded per year."),
    "already_rewarded": (409, "该实验区本学年已获奖励", "This zone is rewarded this year already."),
    "busy": (503, "系统繁忙，请稍后重试", "The request took too long and gave its reservation back; retry."),
    "import_too_many_rows": (413, "表格行数超过5000行", "The sheet has more than 5,000 rows."),
    "import_too_large": (413, "文件过大（不超过5MB）", "The workbook is larger than 5 MB."),
    "import_unreadable": (
        422,
        "无法读取该 Excel 文件",
        "The file is not a readable .xlsx workbook with the expected header row.",
    ),
    "import_row_invalid": (422, "该行数据不完整或格式有误", "The row is incomplete or malformed."),
}
