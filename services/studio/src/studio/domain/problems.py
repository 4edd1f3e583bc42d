"""The problem-code table of the studio service: code -> (HTTP status, Chinese title)."""

from __future__ import annotations

from jijiao_kit.errors import AppError

PROBLEMS: dict[str, tuple[int, str]] = {
    "studio_not_found": (404, "工作室不存在"),
    "host_unknown": (422, "主持人不是已登记的教师"),
    "not_host": (403, "只有主持人可以进行此操作"),
    "recruitment_not_found": (404, "招募不存在"),
    "invalid_windows": (422, "报名或审核时间设置有误"),
    "application_closed": (409, "当前不在报名时间内"),
    "invalid_preferences": (422, "志愿填写有误"),
    "already_applied": (409, "本轮招募已报名"),
    "application_not_found": (404, "报名不存在"),
    "not_in_review": (409, "当前不在该志愿的审核时间内"),
    "already_decided": (409, "该报名已审核，不能更改"),
    "studio_full": (409, "工作室名额已满"),
    "already_member": (409, "该教师本周期已是其他工作室成员"),
    "no_assistants": (409, "只有教育专家工作室可以设置助手"),
    "member_not_found": (404, "成员不存在"),
    "stage_not_found": (404, "研修阶段不存在"),
    "activity_not_found": (404, "活动不存在"),
    "invalid_activity": (422, "活动内容有误"),
    "activity_not_editable": (409, "活动已发布，不能再修改此项"),
    "activity_not_ended": (409, "活动尚未结束，不能填写小结"),
    "no_checkin": (409, "该活动不需要扫码签到"),
    "invalid_checkin_token": (422, "签到二维码无效或已过期"),
    "not_participant": (403, "只有工作室成员可以参加该活动"),
    "already_checked_in": (409, "已签到，无需重复签到"),
    "topic_busy": (409, "同时回复的人太多，请稍后重试"),
    "activity_busy": (409, "同时修改该活动的人太多，请稍后重试"),
    "summary_exists": (409, "活动小结已提交"),
    "invalid_period": (422, "考核期间有误"),
    "absent_unqualified": (409, "缺勤达七分之一及以上，只能评为不合格"),
    "too_new_for_excellent": (409, "进入工作室不满两年，不能评为优秀"),
    "excellent_quota": (409, "优秀人数已达成员的30%"),
    "evaluation_closed": (409, "本周期已结束，考核不能再修改"),
    "evaluation_not_found": (404, "考核结果不存在"),
    "certificate_unavailable": (409, "周期结束且周期考核为优秀后才能下载证书"),
    "upload_type": (415, "文件类型不符合要求"),
    "upload_too_large": (413, "文件过大"),
    "file_not_found": (404, "文件不存在"),
    "post_not_found": (404, "内容不存在"),
    "invalid_post": (422, "内容有误"),
    "invalid_funds": (422, "经费内容有误"),
    "funds_not_found": (404, "经费计划不存在"),
    "indicator_not_found": (404, "考核指标不存在"),
    "invalid_bulletin": (422, "公告简报内容有误"),
    "bulletin_limit": (409, "该类公告简报已达数量上限"),
    "bulletin_not_found": (404, "公告简报不存在"),
    "bulletin_fixed": (409, "已发布的章程或规划、计划不能修改或删除"),
}


def problem(code: str, detail: str) -> AppError:
    status, title = PROBLEMS[code]
    return AppError(detail, code=code, title=title, status=status)
