"""Studio events become Chinese SMS notices to the right teacher (issue 13)."""

from jijiao_contracts import IntegrationEvent
from jijiao_contracts.events import studio as st
from notify.domain.routing import ROUTES, Teacher
from notify.domain.templates import template

BY_EVENT = {route.event: route for route in ROUTES}


def render(event: IntegrationEvent) -> tuple[Teacher, str]:
    notice = BY_EVENT[type(event)].build(event)
    assert notice is not None and isinstance(notice.audience, Teacher)
    return notice.audience, template(notice.template).render_sms(notice.values)


def test_application_decision_goes_to_the_applicant() -> None:
    who, text = render(
        st.StudioApplicationDecided(
            application_id="r:1",
            ce_number="2026000001",
            studio_id="s",
            studio_name="陈晓明名教师工作室",
            role="member",
            round=2,
            decision="admitted",
        )
    )
    assert who.ce_number == "2026000001"
    assert text == "您好，您报名陈晓明名教师工作室（第2志愿，成员）的审核结果：已录取。"


def test_activity_summary_and_evaluation_notices() -> None:
    who, text = render(
        st.StudioActivityAnnounced(
            activity_id="a",
            ce_number="2026000002",
            studio_id="s",
            studio_name="工作室",
            title="同课异构",
            mode="offline",
            starts_at="2026-03-05T01:00:00+00:00",
        )
    )
    assert who.ce_number == "2026000002" and "线下活动《同课异构》" in text and "2026年03月05日 09:00" in text
    who, text = render(
        st.StudioSummaryDue(activity_id="a", studio_id="s", studio_name="工作室", title="同课异构", host_ce_number="9")
    )
    assert who.ce_number == "9" and "活动小结" in text
    who, text = render(
        st.StudioMemberEvaluated(
            evaluation_id="e", ce_number="3", studio_id="s", studio_name="工作室", period="cycle", grade="excellent"
        )
    )
    assert who.ce_number == "3" and text.endswith("本周期考核结果为：优秀。")
