"""Notices of the research-base programme (issue 15): allocation to the zone contact, outcome reminders."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from jijiao_contracts.events import baseline as bl
from jijiao_contracts.events import enrollment as en
from jijiao_kit.clock import FixedClock
from jijiao_kit.sealing import NOTIFY_CREDENTIALS_KEY, SealError, load_or_create_sealing_keys, seal, unseal
from notify.domain.routing import ROUTES, Subject
from notify.domain.templates import TEMPLATES
from notify.service_layer.delivery import DeliveryService
from notify.service_layer.notices import Notifier, Recipient
from notify.service_layer.sealed_sends import opener
from notify.settings import Settings

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


def test_a_credentials_sms_opens_the_secret_only_to_send_it(tmp_path: Path) -> None:
    """The secret arrives sealed, the log masks it, the stored text to send is sealed, delivery opens it."""
    notify_keys = load_or_create_sealing_keys(tmp_path, NOTIFY_CREDENTIALS_KEY)
    event = en.CredentialsIssued(
        subject="account:tr-t1",
        login="tr-t1",
        name="张老师",
        mobile="13900000000",
        role="trainee",
        sealed_password=seal(notify_keys.public, "Abc2345xyz"),
        valid_until=datetime(2019, 9, 1, 4, 0, tzinfo=UTC),
    )
    notice = BY_EVENT[en.CredentialsIssued].build(event)
    assert notice is not None and "Abc2345xyz" not in str(notice.values)
    recipient = Recipient(subject="account:tr-t1", name="张老师", mobile="13900000000")
    notifier = Notifier(None, None, FixedClock(datetime(2019, 9, 1, tzinfo=UTC)), Settings(keys_dir=tmp_path))  # type: ignore[arg-type]
    [doc] = notifier.build("ev-1", TEMPLATES[notice.template], recipient, notice.values, notice.channels)
    assert "Abc2345xyz" not in str(doc) and "******" in doc["text"] and "tr-t1" in doc["text"]
    assert set(doc["send"]) == {"sealed"}
    outgoing = DeliveryService._outgoing(doc, opener(tmp_path))
    assert "初始密码为Abc2345xyz" in outgoing.text and "研修人员" in outgoing.text
    assert notice.template == "programme_credentials"


def test_a_trainee_is_asked_to_report_by_the_deadline(tmp_path: Path) -> None:
    keys = load_or_create_sealing_keys(tmp_path, NOTIFY_CREDENTIALS_KEY)
    event = en.CredentialsIssued(
        subject="account:tr-t1",
        login="tr-t1",
        name="张老师",
        mobile="13900000000",
        role="trainee",
        sealed_password=seal(keys.public, "Abc2345xyz"),
        valid_until=datetime(2019, 9, 1, 4, 0, tzinfo=UTC),
        report_deadline=datetime(2019, 9, 5, 16, 0, tzinfo=UTC),
    )
    notice = BY_EVENT[en.CredentialsIssued].build(event)
    assert notice is not None and notice.template == "programme_credentials_report"
    assert notice.values["report_deadline"] == "2019年09月06日 00:00"


def test_a_sealed_box_opens_only_with_its_key(tmp_path: Path) -> None:
    keys = load_or_create_sealing_keys(tmp_path / "a", "k")
    other = load_or_create_sealing_keys(tmp_path / "b", "k")
    token = seal(keys.public, "秘密Abc123")
    assert unseal(keys, token) == "秘密Abc123" and "Abc123" not in token
    assert seal(keys.public, "秘密Abc123") != token  # a fresh ephemeral key each time
    for key_pair, sealed in ((other, token), (keys, token[:-4] + "AAAA"), (keys, "x")):
        with pytest.raises(SealError):
            unseal(key_pair, sealed)
    assert load_or_create_sealing_keys(tmp_path / "a", "k") == keys  # created once, then read
