from __future__ import annotations

import pytest

from notify.domain.sms import signed, size
from notify.domain.templates import TEMPLATES, Template, TemplateError, template

SAMPLE = {
    "name": "陈晓明",
    "school_name": "天河一小",
    "ce_number": "2026000101",
    "code": "123456",
    "purpose_label": "导出敏感数据",
    "minutes": 5,
    "failed_attempts": 10,
    "term": "2601",
    "closes_at": "2026年03月01日 18:00",
    "bill_number": "B-1",
    "payee": "市继教中心",
    "teacher_count": 12,
    "amount": "1200.00",
    "due_at": "2026年03月10日 18:00",
    "course_name": "课堂观察",
    "hours": "24",
    "title": "校本研修",
    "reason": "材料不全",
    "year": 2026,
    "balance": 350,
    "course": "《课堂观察》",
    "points": 200,
    "category": "专业科目",
    "teacher_name": "陈晓明",
    "to_school_name": "天河二小",
    # baseline (issue 15)
    "zone_name": "广州南沙实验区",
    "base_name": "北京小学",
    "stage": "小学",
    "starts_on": "2019-09-16",
    "ends_on": "2019-09-29",
    "places": 5,
    "personnel_deadline": "2019年08月21日 00:00",
    "due_on": "2019-12-29",
    "role_label": "研修人员",
    "login": "tr-t1",
    "password": "Abc2345xyz",
    "valid_until": "2019年09月08日 12:00",
    "report_deadline": "2019年09月06日 00:00",
}
# studio notices (issue 13)
SAMPLE |= {
    "studio_name": "陈晓明名教师工作室",
    "round": 1,
    "role_label": "成员",
    "decision_label": "已录取",
    "mode_label": "线下",
    "starts_at": "2026年03月05日 09:00",
    "period_label": "2026年度",
    "grade_label": "优秀",
}


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_every_template_renders_in_chinese_with_its_fields(key: str) -> None:
    tpl = TEMPLATES[key]
    assert tpl.fields() <= SAMPLE.keys()
    text = tpl.render_sms(SAMPLE)
    assert "{" not in text and "}" not in text
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)
    if tpl.has_email:
        subject, body = tpl.render_email(SAMPLE)
        assert subject and "请勿直接回复" in body


def test_user_data_is_never_template_syntax() -> None:
    tpl = template("teacher_welcome")
    hostile = {**SAMPLE, "name": "{ce_number}{0.__class__}{school_name!r}", "school_name": "{{x}}"}
    text = tpl.render_sms(hostile)
    assert "{ce_number}{0.__class__}{school_name!r}老师您好" in text
    assert "{{x}}" in text


def test_control_characters_and_overlong_values_are_cleaned() -> None:
    text = template("declaration_returned").render_sms({**SAMPLE, "reason": "第一行\n第二行\x07" + "长" * 500})
    assert "\n" not in text and "\x07" not in text
    assert text.count("长") == 200 - len("第一行第二行")


def test_templates_refuse_attribute_lookups_and_format_specs() -> None:
    with pytest.raises(TemplateError):
        Template(key="bad", version=1, sms="{name.__class__}")
    with pytest.raises(TemplateError):
        Template(key="bad", version=1, sms="{name:>10}")
    with pytest.raises(TemplateError):
        Template(key="bad", version=1, sms="{0}")


def test_missing_values_are_an_error() -> None:
    with pytest.raises(TemplateError):
        template("teacher_welcome").render_sms({"name": "x"})


def test_secret_values_are_redacted_for_the_log_only() -> None:
    tpl = template("verification_code")
    assert "123456" in tpl.render_sms(SAMPLE)
    redacted = tpl.render_sms(SAMPLE, redact=True)
    assert "123456" not in redacted and "******" in redacted


def test_essential_and_urgent_flags() -> None:
    essential = {k for k, t in TEMPLATES.items() if t.essential}
    assert {"verification_code", "account_locked", "bill_issued", "special_user_flagged"} <= essential
    assert "result_passed" not in essential and "points_expiring" not in essential
    assert {k for k, t in TEMPLATES.items() if t.urgent} == {
        "verification_code",
        "account_locked",
        "programme_credentials",
        "programme_credentials_report",
    }
    assert all(t.version >= 1 for t in TEMPLATES.values())


@pytest.mark.parametrize(
    ("key", "values", "expected"),
    [
        (
            "hours_withdrawn",
            {"name": "陈晓明", "year": 2026, "course": "《课堂观察与诊断》", "hours": "24"},
            "【广州继教网】陈晓明老师，因成绩更正，您2026年度课程《课堂观察与诊断》的24学时已撤回，请登录平台查看学时记录。",
        ),
        (
            "points_redeemed",
            {"name": "陈晓明", "points": 200, "hours": "20", "category": "个人选修科目", "year": 2026, "balance": 1500},
            "【广州继教网】陈晓明老师，您已使用200积分兑换20学时（个人选修科目），2026年度剩余1500积分。",
        ),
        (
            "points_expired",
            {"name": "陈晓明", "year": 2026, "points": 1500},
            "【广州继教网】陈晓明老师，您2026年度未兑换的1500积分已于年底过期清零。",
        ),
    ],
)
def test_hours_bank_notices_fit_one_sms_with_the_signature(key: str, values: dict[str, object], expected: str) -> None:
    tpl = template(key)
    text = signed(tpl.render_sms(values), "广州继教网")
    assert text == expected
    assert size(text).segments == 1 and not tpl.essential and not tpl.urgent
