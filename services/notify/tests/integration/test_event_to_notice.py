"""From a published event to an SMS in the development sink and an email at a real SMTP server,
exactly once however often the event is delivered."""

from __future__ import annotations

import asyncio
from typing import Any

from jijiao_contracts.events.enrollment import AdminRegistered, BillIssued, TeacherRegistered
from jijiao_stack.pytest_plugin import api_client, bearer, eventually, running
from notify.bootstrap import build
from notify.entrypoints.api.app import create_app
from notify.entrypoints.worker import create_worker, worker_container
from notify.settings import Settings


def teacher(ce_number: str, mobile: str, email: str | None = None) -> TeacherRegistered:
    return TeacherRegistered(
        ce_number=ce_number,
        name="陈晓明",
        school_id="s1",
        school_name="天河一小",
        district="天河区",
        mobile=mobile,
        email=email,
        registered_year=2026,
    )


def settings(env: dict[str, Any], smtp_port: int, **more: Any) -> Settings:
    return Settings(**env, smtp_port=smtp_port, quiet_hours_enabled=False, delivery_interval_seconds=0.05, **more)


async def test_redelivered_event_sends_one_sms_and_one_email(
    settings_env: dict[str, Any], smtp_server: Any, publish: Any, make_token: Any
) -> None:
    container = worker_container(settings(settings_env, smtp_server.port))
    worker = create_worker(container)
    async with running(worker):
        envelope = await publish(
            worker, teacher("2026000101", "13900000001", "chen@example.com"), producer="enrollment", times=3
        )

        async def both_sent() -> bool:
            docs = await container.infra.db["messages"].find({"cause_id": envelope.event_id}).to_list()
            return len(docs) == 2 and all(d["status"] == "sent" and d["outbox_pending"] == 0 for d in docs)

        await eventually(both_sent, timeout=15)
        await asyncio.sleep(0.5)  # give any duplicate a chance to show up
    sink = await container.sink.list_to("13900000001")
    assert len(sink) == 1 and sink[0]["deliveries"] == 1
    assert sink[0]["text"].startswith("【广州继教网】陈晓明老师您好，您已加入天河一小")
    assert sink[0]["length"] == len(sink[0]["text"]) == 66  # the signature counts
    assert sink[0]["segments"] == 1
    mails = smtp_server.to("chen@example.com")
    assert len(mails) == 1
    assert mails[0]["Subject"] == "欢迎加入继续教育平台"
    plain = mails[0].get_body(preferencelist=("plain",))
    assert plain is not None and "继续教育学号为2026000101" in plain.get_content()
    assert mails[0].get_body(preferencelist=("html",)) is not None

    contact = await container.contacts.get("teacher:2026000101")
    # the status is a part written by $set, so the flag may read back as 1
    assert contact is not None and contact["mobile"] == "13900000001" and bool(contact["active"]) is True

    app = create_app(build(settings(settings_env, smtp_server.port)))
    async with api_client(app) as client:
        own = await client.get(
            "/v1/messages",
            params={"to": "13900000001"},
            headers=bearer(make_token("teacher", subject="teacher:2026000101", mobile="13900000001")),
        )
        other = await client.get(
            "/v1/messages",
            params={"to": "13900000001"},
            headers=bearer(make_token("teacher", subject="teacher:2026000102", mobile="13900000002")),
        )
        city = await client.get(
            "/v1/messages", params={"to": "chen@example.com"}, headers=bearer(make_token("city_admin"))
        )
        foreign_school = await client.get(
            "/v1/messages", params={"to": "13900000001"}, headers=bearer(make_token("school_admin", school_id="s9"))
        )
        # the development sink shows what the log shows: the school's own admins and the city, no other school
        sink_own_school = await client.get(
            "/v1/dev/sms", params={"to": "13900000001"}, headers=bearer(make_token("school_admin", school_id="s1"))
        )
        sink_foreign_school = await client.get(
            "/v1/dev/sms", params={"to": "13900000001"}, headers=bearer(make_token("school_admin", school_id="s9"))
        )
        sink_city = await client.get(
            "/v1/dev/sms", params={"to": "13900000001"}, headers=bearer(make_token("city_admin"))
        )
        stats = await client.get("/v1/messages/stats", headers=bearer(make_token("city_admin")))
        teacher_stats = await client.get(
            "/v1/messages/stats", headers=bearer(make_token("teacher", subject="teacher:2026000101"))
        )
    assert own.status_code == 200, own.text
    [message] = own.json()
    assert (message["channel"], message["template"], message["status"], message["attempts"]) == (
        "sms",
        "teacher_welcome",
        "sent",
        1,
    )
    assert message["sent_at"] and message["created_at"] and (message["length"], message["segments"]) == (66, 1)
    assert other.status_code == 403 and other.json()["code"] == "messages_forbidden"
    assert other.headers["content-type"].startswith("application/problem+json")
    assert [m["channel"] for m in city.json()] == ["email"]
    assert foreign_school.status_code == 200 and foreign_school.json() == []
    assert [m["to"] for m in sink_own_school.json()] == [m["to"] for m in sink_city.json()] == ["13900000001"]
    assert sink_foreign_school.status_code == 200 and sink_foreign_school.json() == []
    rows = stats.json()["rows"]
    assert sum(r["total"] for r in rows if r["template"] == "teacher_welcome") == 2
    assert all(r["by_status"] == {"sent": 1} for r in rows)
    assert teacher_stats.status_code == 403


async def test_concurrent_redelivery_creates_and_sends_one_notice(
    settings_env: dict[str, Any], smtp_server: Any, sms_gateway: Any
) -> None:
    """200 concurrent handlings of one event, then 20 concurrent delivery passes: one provider call."""
    container = build(settings(settings_env, smtp_server.port, sms_backend="http", sms_gateway_url=sms_gateway.url))
    from notify.domain.routing import ROUTES

    route = next(r for r in ROUTES if r.event is TeacherRegistered)
    notice = route.build(teacher("2026000201", "13900000201"))
    assert notice is not None
    created = await asyncio.gather(*(container.notifier.notify("event-1", notice) for _ in range(200)))
    assert sum(created) == 1
    await asyncio.gather(*(container.delivery.run_once() for _ in range(20)))
    assert len(sms_gateway.requests) == 1
    doc = await container.messages.get("event-1:teacher:2026000201:sms")
    assert doc is not None and doc["status"] == "sent" and doc["attempts"] == 1
    await container.infra.close()


async def test_bill_goes_to_every_school_admin_of_that_school(
    settings_env: dict[str, Any], smtp_server: Any, publish: Any
) -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    container = worker_container(settings(settings_env, smtp_server.port))
    worker = create_worker(container)
    admins = [
        AdminRegistered(
            subject="account:a1",
            username="sa1",
            name="管理员一",
            mobile="13700000001",
            email="a1@example.com",
            roles=["school_admin"],
            school_id="s1",
            district="天河区",
        ),
        AdminRegistered(
            subject="account:a2",
            username="sa2",
            name="管理员二",
            mobile="13700000002",
            roles=["school_admin"],
            school_id="s1",
            district="天河区",
        ),
        AdminRegistered(
            subject="account:a3",
            username="sa3",
            name="他校管理员",
            mobile="13700000003",
            roles=["school_admin"],
            school_id="s2",
            district="天河区",
        ),
    ]
    async with running(worker):
        for admin in admins:
            await publish(worker, admin, producer="enrollment")

        async def known() -> bool:
            return await container.infra.db["contacts"].count_documents({"kind": "admin"}) == 3

        await eventually(known)
        bill = BillIssued(
            bill_id="b1",
            bill_number="B2601-001",
            term="2601",
            school_id="s1",
            school_name="天河一小",
            payee="市继教中心",
            amount=Decimal("3600"),
            teacher_count=12,
            payment_due_at=datetime(2026, 3, 10, 10, 0, tzinfo=UTC),
        )
        envelope = await publish(worker, bill, producer="enrollment", times=2)

        async def sent() -> bool:
            docs = await container.infra.db["messages"].find({"cause_id": envelope.event_id}).to_list()
            return len(docs) == 4 and sum(d["status"] == "sent" for d in docs) == 3

        await eventually(sent, timeout=15)
    # a bill is essential: the admin without an email address shows as a failed email, not a silent gap
    no_email = await container.messages.get(f"{envelope.event_id}:account:a2:email")
    assert no_email is not None and (no_email["status"], no_email["error_code"]) == ("failed", "no_address")
    to = sorted(d["to"] for d in await container.sink.everything())
    assert to == ["13700000001", "13700000002"]
    [mail] = smtp_server.to("a1@example.com")
    assert mail["Subject"] == "第2601期缴款通知书已生成（B2601-001）"
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None and "金额：3600.00元" in body.get_content()


async def test_notice_sent_and_failed_events_reach_the_broker(settings_env: dict[str, Any], publish: Any) -> None:
    """SMS to the sink succeeds; email to an SMTP port nobody listens on fails for good after its
    attempts. Both outcomes leave as events through the outbox."""
    import json

    import aio_pika

    from jijiao_stack.processes import free_port

    container = worker_container(
        settings(
            settings_env,
            free_port(),
            delivery_max_attempts=2,
            retry_base_seconds=0.05,
            retry_max_seconds=0.1,
            delivery_scan_seconds=0.1,
        )
    )
    worker = create_worker(container)
    connection = await aio_pika.connect(settings_env["rabbitmq_url"])
    async with connection, running(worker):
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True)
        exchange = await channel.get_exchange(container.settings.topology.events_exchange)
        await queue.bind(exchange, "notify.#")
        envelope = await publish(worker, teacher("2026000601", "13900000601", "x@example.com"), producer="enrollment")
        received: dict[str, dict[str, Any]] = {}

        async def both() -> bool:
            while (message := await queue.get(fail=False, no_ack=True)) is not None:
                body = json.loads(message.body)
                received[body["type"]] = body["payload"]
            return len(received) == 2

        await eventually(both, timeout=20)
    sent, failed = received["notify.notice_sent"], received["notify.notice_failed"]
    assert (sent["channel"], sent["recipient"], sent["cause_event_id"], sent["attempts"]) == (
        "sms",
        "13900000601",
        envelope.event_id,
        1,
    )
    assert (failed["channel"], failed["recipient"], failed["attempts"]) == ("email", "x@example.com", 2)
    assert failed["error"].startswith("SMTP failure")
    doc = await container.messages.get(f"{envelope.event_id}:teacher:2026000601:email")
    assert doc is not None and doc["status"] == "failed" and len(doc["errors"]) == 2
