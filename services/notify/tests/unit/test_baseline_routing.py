"""Notices of the research-base programme (issue 15): allocation to the zone contact, outcome reminders."""

from __future__ import annotations

from jijiao_contracts.events import baseline as bl
from notify.domain.routing import ROUTES, Subject
from notify.domain.templates import TEMPLATES

BY_EVENT = {route.event: route for route in ROUTES}


def test_an_allocation_reaches_the_zone_contact_by_sms_and_email() -> None:
    event = bl.BatchAllocated(
        batch_id="b1",
        year="2019-2020",
        zone_id="z1",
        zone_name="广州南沙实验区",
        base_name="北京小学",
        stage="primary",
        starts_on="2019-09-16",
        ends_on="2019-09-29",
        places=5,
        personnel_deadline="2019-08-20T16:00:00+00:00",
        contact_name="刘老师",
        contact_mobile="13700000001",
        contact_email="zone@example.com",
    )
    notice = BY_EVENT[bl.BatchAllocated].build(event)
    assert notice is not None and notice.channels == ("sms", "email")
    assert notice.audience == Subject("zone_contact:z1", "13700000001", "刘老师", "zone@example.com")
    template = TEMPLATES[notice.template]
    text = template.render_sms({**notice.values, "name": "刘老师"})
    assert "北京小学（小学）" in text and "2019年08月21日 00:00" in text
    subject, body = template.render_email({**notice.values, "name": "刘老师"})
    assert subject == "研修基地学习批次分配通知" and "名额5人" in body


def test_an_outcome_reminder_goes_to_the_trainee_by_sms() -> None:
    event = bl.OutcomeReminderDue(
        trainee_id="t1", batch_id="b1", zone_id="z1", name="张老师", mobile="13900000000", due_on="2019-12-29"
    )
    notice = BY_EVENT[bl.OutcomeReminderDue].build(event)
    assert notice is not None and notice.channels == ("sms",)
    assert notice.audience == Subject("trainee:t1", "13900000000", "张老师")
    assert "2019-12-29" in TEMPLATES[notice.template].render_sms({**notice.values, "name": "张老师"})
