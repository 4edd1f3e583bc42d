"""Chinese notice texts, one versioned template per notice type.

Values are inserted with ``str.format_map`` on the template's own field names only, and every value
is turned into a plain string first, so user data (a name holding ``{0.__class__}`` or braces) is only
ever text in the output and never template syntax. Format specs and attribute/index lookups are
refused when a template is defined, so a template itself cannot reach into objects either."""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any

MAX_VALUE_LENGTH = 200


class TemplateError(ValueError):
    pass


def _fields(text: str) -> frozenset[str]:
    names: set[str] = set()
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise TemplateError(f"only plain {{name}} fields are allowed, got {{{name}}}")
        names.add(name)
    return frozenset(names)


def _clean(value: Any) -> str:
    text = "" if value is None else str(value)
    # Control characters (newlines in a name, say) never reach an SMS; overlong values are cut.
    text = "".join(ch for ch in text if ch.isprintable())
    return text[:MAX_VALUE_LENGTH]


@dataclass(frozen=True)
class Template:
    """``sms`` is the SMS body (the signature is added on sending); ``email_subject`` and
    ``email_body`` (plain text) are optional: a template without them is SMS only."""

    key: str
    version: int
    sms: str
    email_subject: str | None = None
    email_body: str | None = None
    #: Essential notices (verification, account locked, payment, special user) ignore opt-outs.
    essential: bool = False
    #: Urgent notices ignore quiet hours (a code the user waits for, a lock they just caused).
    urgent: bool = False
    #: Values that must not be kept in the delivery log (the code of a verification SMS).
    secret_fields: frozenset[str] = field(default_factory=frozenset)
    #: Values that arrive sealed for notify's key (an initial secret): opened only to render, and the
    #: text to send stays sealed at rest (``service_layer.sealed_sends``). Also masked in the log.
    sealed_fields: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        for text in (self.sms, self.email_subject or "", self.email_body or ""):
            _fields(text)

    @property
    def has_email(self) -> bool:
        return self.email_subject is not None and self.email_body is not None

    def fields(self) -> frozenset[str]:
        return _fields(self.sms) | _fields(self.email_subject or "") | _fields(self.email_body or "")

    def _render(self, text: str, values: dict[str, Any], *, redact: bool = False) -> str:
        names = _fields(text)
        missing = names - values.keys()
        if missing:
            raise TemplateError(f"template {self.key} misses {sorted(missing)}")
        safe = {name: ("******" if redact and name in self.secret_fields else _clean(values[name])) for name in names}
        return text.format_map(safe)

    def render_sms(self, values: dict[str, Any], *, redact: bool = False) -> str:
        return self._render(self.sms, values, redact=redact)

    def render_email(self, values: dict[str, Any], *, redact: bool = False) -> tuple[str, str]:
        if not self.has_email:
            raise TemplateError(f"template {self.key} has no email form")
        assert self.email_subject is not None and self.email_body is not None
        return self._render(self.email_subject, values, redact=redact), self._render(
            self.email_body, values, redact=redact
        )


SIGN_OFF = "\n\n此邮件由系统自动发送，请勿直接回复。"

TEMPLATES: dict[str, Template] = {
    t.key: t
    for t in (
        Template(
            key="teacher_welcome",
            version=2,
            sms=(
                "{name}老师您好，您已加入{school_name}，继续教育学号为{ce_number}。"
                "初始密码为身份证号后六位，请登录后及时修改密码。"
            ),
            email_subject="欢迎加入继续教育平台",
            email_body=(
                "{name}老师：\n\n您好！您已加入{school_name}，继续教育学号为{ce_number}。"
                "初始密码为身份证号后六位，请登录后及时修改密码。" + SIGN_OFF
            ),
        ),
        Template(
            key="verification_code",
            version=1,
            sms="您的验证码为{code}，用于{purpose_label}，{minutes}分钟内有效。如非本人操作，请忽略本短信。",
            essential=True,
            urgent=True,
            secret_fields=frozenset({"code"}),
        ),
        Template(
            key="account_locked",
            version=1,
            sms="{name}您好，您的账号因连续{failed_attempts}次密码错误已被锁定，请联系本校继续教育管理员解锁。",
            essential=True,
            urgent=True,
        ),
        Template(
            key="account_unlocked",
            version=1,
            sms="{name}您好，您的账号已解锁，请使用正确的密码登录。",
            essential=True,
        ),
        Template(
            key="selection_window_opening",
            version=1,
            sms="第{term}期选课已开始，选课截止时间为{closes_at}，请及时登录选课。",
        ),
        Template(
            key="selection_window_closing",
            version=1,
            sms="第{term}期选课将于{closes_at}截止，尚未选课的老师请尽快完成选课。",
        ),
        Template(
            key="bill_issued",
            version=1,
            sms=(
                "{school_name}：第{term}期缴款通知书（账单号{bill_number}）已生成，"
                "收费单位{payee}，{teacher_count}人，金额{amount}元，请于{due_at}前完成缴费。"
            ),
            email_subject="第{term}期缴款通知书已生成（{bill_number}）",
            email_body=(
                "{school_name}继续教育管理员：\n\n第{term}期缴款通知书已生成。\n"
                "账单号：{bill_number}\n收费单位：{payee}\n人数：{teacher_count}\n金额：{amount}元\n"
                "缴费截止：{due_at}\n\n请登录平台打印缴款通知书并按时缴费，逾期未缴费的学员将被列为特殊用户。"
                + SIGN_OFF
            ),
            essential=True,
        ),
        Template(
            key="special_user_flagged",
            version=1,
            sms=(
                "{name}老师，您在第{term}期选课后既未退选也未按期缴费，已被列为特殊用户，"
                "暂不能选课和调动。请携带身份证到市继教中心办理解除。"
            ),
            essential=True,
        ),
        Template(
            key="special_user_cleared",
            version=1,
            sms="{name}老师，您的特殊用户状态已解除，可以正常选课。",
            essential=True,
        ),
        Template(
            key="result_passed",
            version=1,
            sms="{name}老师，您的课程《{course_name}》（第{term}期）成绩合格，获得{hours}学时。",
        ),
        Template(
            key="result_failed",
            version=1,
            sms="{name}老师，您的课程《{course_name}》（第{term}期）成绩不合格，请登录平台查看并及时补修。",
        ),
        Template(
            key="declaration_returned",
            version=1,
            sms="{name}老师，您的学时申报《{title}》被退回，原因：{reason}。请修改后重新提交。",
        ),
        Template(
            key="declaration_approved",
            version=1,
            sms="{name}老师，您的学时申报《{title}》已通过终审，学时计入{year}年度，请登录平台查看学时记录。",
        ),
        Template(
            key="hours_withdrawn",
            version=1,
            sms="{name}老师，因成绩更正，您{year}年度课程{course}的{hours}学时已撤回，请登录平台查看学时记录。",
        ),
        Template(
            key="points_redeemed",
            version=1,
            sms="{name}老师，您已使用{points}积分兑换{hours}学时（{category}），{year}年度剩余{balance}积分。",
        ),
        Template(
            key="points_expired",
            version=1,
            sms="{name}老师，您{year}年度未兑换的{points}积分已于年底过期清零。",
        ),
        Template(
            key="info_change_approved",
            version=1,
            sms="{name}老师，您提交的个人信息修改已通过学校审核并生效。",
        ),
        Template(
            key="info_change_returned",
            version=1,
            sms="{name}老师，您提交的个人信息修改被学校退回，原因：{reason}。请登录平台修改后重新提交。",
        ),
        Template(
            key="transfer_approved",
            version=1,
            sms="{name}您好，{teacher_name}老师（学号{ce_number}）调入{to_school_name}的申请已审批通过。",
        ),
        Template(
            key="transfer_refused",
            version=1,
            sms="{name}您好，{teacher_name}老师（学号{ce_number}）调入{to_school_name}的申请未获通过，原因：{reason}。",
        ),
        Template(
            key="school_course_approved",
            version=1,
            sms="{name}您好，贵校申报的校本课程《{course_name}》（{hours}学时，第{term}期）已审核通过，可为教师报名。",
        ),
        Template(
            key="school_course_rejected",
            version=1,
            sms="{name}您好，贵校申报的校本课程《{course_name}》（第{term}期）未通过审核，意见：{reason}。请修改后重新申报。",
        ),
        Template(
            key="points_expiring",
            version=1,
            sms="{name}老师，您{year}年尚有{balance}积分未兑换，积分将于12月31日过期清零，请及时兑换学时。",
        ),
    )
}


# --- baseline: the national research-base programme (issue 15) ---------------------------------------
TEMPLATES.update(
    {
        t.key: t
        for t in (
            Template(
                key="baseline_batch_allocated",
                version=1,
                sms=(
                    "{name}您好，{zone_name}已分配研修批次：{base_name}（{stage}），{starts_on}至{ends_on}，"
                    "名额{places}人。请于{personnel_deadline}前登录平台填报研修人员。"
                ),
                email_subject="研修基地学习批次分配通知",
                email_body=(
                    "{name}：\n\n您好！{zone_name}已分配研修批次：{base_name}（{stage}），"
                    "研修时间{starts_on}至{ends_on}，名额{places}人。"
                    "请于{personnel_deadline}前登录平台“研修人员管理”填报并确认研修人员名单。" + SIGN_OFF
                ),
            ),
            Template(
                key="programme_credentials",
                version=1,
                sms=(
                    "{name}您好，您的{role_label}账号为{login}，初始密码为{password}，{valid_until}前有效。"
                    "首次登录后须修改密码。请勿将密码告诉他人。"
                ),
                essential=True,
                urgent=True,
                secret_fields=frozenset({"password"}),
                sealed_fields=frozenset({"password"}),
            ),
            Template(
                key="programme_credentials_report",
                version=1,
                sms=(
                    "{name}您好，您的{role_label}账号为{login}，初始密码为{password}，{valid_until}前有效。"
                    "首次登录后须修改密码，并请于{report_deadline}前登录报到。请勿将密码告诉他人。"
                ),
                essential=True,
                urgent=True,
                secret_fields=frozenset({"password"}),
                sealed_fields=frozenset({"password"}),
            ),
            Template(
                key="baseline_outcome_reminder",
                version=1,
                sms="{name}老师您好，请于{due_on}前上传研修学习成果，并在本实验区完成一次分享交流。",
            ),
        )
    }
)


def template(key: str) -> Template:
    try:
        return TEMPLATES[key]
    except KeyError:
        raise TemplateError(f"unknown template {key}") from None


# -- studio notices (issue 13): kept in their own block so other services' entries merge cleanly --
STUDIO_TEMPLATES = (
    Template(
        key="studio_application_decided",
        version=1,
        sms="您好，您报名{studio_name}（第{round}志愿，{role_label}）的审核结果：{decision_label}。",
    ),
    Template(
        key="studio_activity_announced",
        version=1,
        sms="您好，{studio_name}发布了{mode_label}活动《{title}》，开始时间{starts_at}，请按时参加。",
    ),
    Template(
        key="studio_summary_due",
        version=1,
        sms="主持人您好，{studio_name}的活动《{title}》已结束，请及时填写活动小结。",
    ),
    Template(
        key="studio_member_evaluated",
        version=1,
        sms="您好，您在{studio_name}的{period_label}考核结果为：{grade_label}。",
    ),
)
TEMPLATES.update({t.key: t for t in STUDIO_TEMPLATES})
