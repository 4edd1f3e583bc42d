"""Creating notices: render, decide when they may go, and store them as pending.

Nothing is sent here: the consumer (or the API, for codes) only writes pending notices, keyed by their
idempotency key, and the delivery job sends them. So a slow or failing provider never holds the event
queue, and a redelivered event meets its own notices and adds nothing.

A notice that cannot go because its recipient has no address (or is not in the contact book at all) is
never dropped silently: it is stored ``failed`` at once (``attempts`` 0, ``error_code`` ``no_address``
or ``no_contact``, ``to`` empty) with its NoticeFailed in its own outbox, under the same key as any
notice, so it shows in the delivery log and the statistics. Which ones: every channel of an essential
notice that has no address; a non-essential notice only when it reaches the recipient on none of its
channels (an SMS-only notice to someone with an email address alone counts: nothing reaches them)."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jijiao_contracts.events.notify import PRODUCER, NoticeFailed
from jijiao_kit.clock import Clock
from jijiao_kit.outbox import outbox_entry, with_outbox
from notify.adapters.repositories import Contacts, Messages
from notify.domain.routing import Audience, Channel, Notice, SchoolAdmins, Subject, Teacher
from notify.domain.schedule import epoch, local_day
from notify.domain.sms import signed, size
from notify.domain.templates import Template, template
from notify.service_layer.sealed_sends import open_values, seal_send
from notify.settings import Settings

logger = logging.getLogger(__name__)


def idempotency_key(cause_id: str, recipient: str, channel: str) -> str:
    return f"{cause_id}:{recipient}:{channel}"


def _email(audience: Audience) -> str | None:
    """The address an event names for an account outside the contact book (a zone contact)."""
    return audience.email if isinstance(audience, Subject) else None


@dataclass(frozen=True)
class Recipient:
    """Where a notice goes: a contact (``subject`` set), a bare number from the event, or, when neither
    is known (``known`` False), the audience itself, whose notices are recorded as failed."""

    subject: str | None
    name: str | None = None
    mobile: str | None = None
    email: str | None = None
    school_id: str | None = None
    district: str | None = None
    opt_out: dict[str, bool] = field(default_factory=dict)
    known: bool = True

    @classmethod
    def of_contact(cls, doc: dict[str, Any], *, mobile: str | None = None, name: str | None = None) -> Recipient:
        return cls(
            subject=doc["_id"],
            name=doc.get("name") or name,
            mobile=doc.get("mobile") or mobile,
            email=doc.get("email"),
            school_id=doc.get("school_id"),
            district=doc.get("district"),
            opt_out=dict(doc.get("opt_out") or {}),
        )

    def address(self, channel: str) -> str | None:
        return self.mobile if channel == "sms" else self.email

    @classmethod
    def unknown(cls, audience: Audience) -> Recipient:
        """An audience nobody in the contact book answers to (and the event names no number)."""
        if isinstance(audience, SchoolAdmins):
            return cls(subject=f"school-admins:{audience.school_id}", school_id=audience.school_id, known=False)
        key = f"teacher:{audience.ce_number}" if isinstance(audience, Teacher) else audience.subject
        return cls(subject=key, name=audience.name, known=False)


class Notifier:
    def __init__(
        self,
        messages: Messages,
        contacts: Contacts,
        clock: Clock,
        settings: Settings,
        handover: Callable[[list[dict[str, Any]]], Awaitable[None]] | None = None,
        holder: str | None = None,
        holding: Callable[[Iterable[str]], AbstractContextManager[None]] | None = None,
    ) -> None:
        self.messages = messages
        self.contacts = contacts
        self.clock = clock
        self.settings = settings
        self.tz = ZoneInfo(settings.timezone)
        self.quiet = settings.quiet_hours()
        #: In the worker: notices due now are inserted already claimed (``sending``, with a lease and
        #: a claim token) and handed to the delivery job as they are, with no claim write and no read.
        self.handover = handover
        #: The worker's heartbeat id (``jijiao_kit.liveness``), named by the claims it inserts.
        self.holder = holder
        #: The delivery's mark of notices in this process's hands (``DeliveryService.holding``): set
        #: before the claimed notices are inserted, so a scan never gives back a claim being handed over.
        self.holding = holding

    async def store(self, docs: list[dict[str, Any]]) -> int:
        """Insert notices (existing keys are kept as they are: a redelivered cause adds nothing); in the
        worker, hand the new ones that are due now straight to delivery. Returns how many are new."""
        if self.handover is None:
            return await self.messages.create_many(docs)
        now = self.clock.now()
        stamp = epoch(now)
        claim = {
            "status": "sending",
            "lease_ts": epoch(now + timedelta(seconds=self.settings.delivery_lease_seconds)),
            "claim": uuid.uuid4().hex,
            "holder": self.holder,
        }
        for doc in docs:
            if doc["status"] == "pending" and doc["due_ts"] <= stamp:
                doc |= claim
        in_hand = [doc["_id"] for doc in docs if doc["status"] == "sending"]
        with self.holding(in_hand) if self.holding is not None else contextlib.nullcontext():
            created = await self.messages.insert_new(docs)
            claimed = [doc for doc in created if doc["status"] == "sending"]
            if claimed:
                await self.handover(claimed)
        return len(created)

    # -- audiences -----------------------------------------------------------------------------
    async def recipients_for(self, audience: Audience) -> list[Recipient]:
        """Who ``audience`` is; never empty: an audience nobody answers to is ``Recipient.unknown``."""
        if isinstance(audience, SchoolAdmins):
            admins = [Recipient.of_contact(doc) for doc in await self.contacts.school_admins(audience.school_id)]
            return admins or [Recipient.unknown(audience)]
        key = f"teacher:{audience.ce_number}" if isinstance(audience, Teacher) else audience.subject
        assert isinstance(audience, Teacher | Subject)
        contact = await self.contacts.get(key)
        if contact is not None:
            return [Recipient.of_contact(contact, mobile=audience.mobile, name=audience.name)]
        if audience.mobile:
            return [Recipient(subject=key, name=audience.name, mobile=audience.mobile, email=_email(audience))]
        return [Recipient.unknown(audience)]

    async def recipients_for_many(self, audiences: Iterable[Audience]) -> dict[Audience, list[Recipient]]:
        """``recipients_for`` of many audiences with two reads: the contacts by key in one ``$in``, the
        school admins of all schools in another."""
        audiences = list(dict.fromkeys(audiences))
        keys = [
            f"teacher:{a.ce_number}" if isinstance(a, Teacher) else a.subject
            for a in audiences
            if isinstance(a, Teacher | Subject)
        ]
        schools = [a.school_id for a in audiences if isinstance(a, SchoolAdmins)]
        contacts = await self.contacts.get_many(keys)
        admins: dict[str, list[Recipient]] = {}
        for doc in await self.contacts.school_admins_of(schools):
            admins.setdefault(doc["school_id"], []).append(Recipient.of_contact(doc))
        found: dict[Audience, list[Recipient]] = {}
        for audience in audiences:
            if isinstance(audience, SchoolAdmins):
                found[audience] = admins.get(audience.school_id) or [Recipient.unknown(audience)]
                continue
            key = f"teacher:{audience.ce_number}" if isinstance(audience, Teacher) else audience.subject
            contact = contacts.get(key)
            if contact is not None:
                found[audience] = [Recipient.of_contact(contact, mobile=audience.mobile, name=audience.name)]
            elif audience.mobile:
                found[audience] = [
                    Recipient(subject=key, name=audience.name, mobile=audience.mobile, email=_email(audience))
                ]
            else:
                found[audience] = [Recipient.unknown(audience)]
        return found

    async def notify_many(self, notices: Sequence[tuple[str, Notice]]) -> int:
        """``notify`` for a batch of (cause event id, notice): recipients in two reads, every notice in
        one unordered ``insert_many`` (a key that exists already is a notice known before: kept)."""
        recipients = await self.recipients_for_many(notice.audience for _, notice in notices)
        docs: list[dict[str, Any]] = []
        for cause_id, notice in notices:
            tpl = template(notice.template)
            for recipient in recipients[notice.audience]:
                docs.extend(self.build(cause_id, tpl, recipient, notice.values, notice.channels))
        return await self.store(docs)

    async def notify(self, cause_id: str, notice: Notice) -> int:
        recipients = await self.recipients_for(notice.audience)
        docs = [
            doc
            for recipient in recipients
            for doc in self.build(cause_id, template(notice.template), recipient, notice.values, notice.channels)
        ]
        return await self.store(docs)

    # -- building ------------------------------------------------------------------------------
    def not_before(self, tpl: Template, now: datetime) -> tuple[datetime, bool]:
        send_at = self.quiet.not_before(now, urgent=tpl.urgent)
        return send_at, send_at != now

    def build(
        self,
        cause_id: str,
        tpl: Template,
        recipient: Recipient,
        values: dict[str, Any],
        channels: Iterable[str] = ("sms",),
    ) -> list[dict[str, Any]]:
        now = self.clock.now()
        merged = {"name": recipient.name or "", **values}
        if tpl.sealed_fields:  # a credentials SMS: opened in memory only (sealed_sends)
            merged = open_values(self.settings.keys_dir, merged, tpl.sealed_fields)
        docs: list[dict[str, Any]] = []
        usable = [c for c in channels if c != "email" or (tpl.has_email and self.settings.email_enabled)]
        reachable = any(recipient.address(channel) for channel in usable)
        for channel in usable:
            address = recipient.address(channel)
            if not address and reachable and not tpl.essential:
                continue  # a non-essential notice that reaches the recipient on another channel
            if not address and recipient.opt_out.get(channel) and not tpl.essential:
                continue  # nothing was meant to go there
            send_at, deferred = self.not_before(tpl, now)
            doc: dict[str, Any] = {
                "_id": idempotency_key(cause_id, recipient.subject or address or "", channel),
                "cause_id": cause_id,
                "subject": recipient.subject,
                "to": address or "",
                "channel": channel,
                "template": tpl.key,
                "template_version": tpl.version,
                "essential": tpl.essential,
                "urgent": tpl.urgent,
                "school_id": recipient.school_id,
                "district": recipient.district,
                "attempts": 0,
                "errors": [],
                "created_at": now,
                "updated_at": now,
                "next_attempt_at": send_at,
                "due_ts": epoch(send_at),
                "deferred_until": send_at if deferred else None,
                "day": local_day(now, self.tz),
                "stat_key": f"{local_day(now, self.tz)}|{tpl.key}|{channel}",
                "outbox": {},
                "outbox_pending": 0,
            }
            # The text sent is kept apart (``send``, removed once sent) only when the logged text masks
            # something (a verification code); otherwise the logged text is the one sent.
            secret = bool(tpl.secret_fields)
            if channel == "sms":
                text = signed(tpl.render_sms(merged), self.settings.sms_signature)
                measured = size(text)
                logged = signed(tpl.render_sms(merged, redact=True), self.settings.sms_signature) if secret else text
                doc |= {"text": logged, "length": measured.length, "segments": measured.segments}
                if secret:
                    doc["send"] = {"text": text}
                if tpl.sealed_fields:
                    doc["send"] = seal_send(self.settings.keys_dir, {"text": text})
            else:
                subject, body = tpl.render_email(merged)
                log_subject, log_body = tpl.render_email(merged, redact=True) if secret else (subject, body)
                doc |= {"text": log_body, "email_subject": log_subject, "length": len(body), "segments": 0}
                if secret:
                    doc["send"] = {"text": body, "subject": subject}
            if not address:
                doc = self._undeliverable(doc, recipient, channel, now)
            elif recipient.opt_out.get(channel) and not tpl.essential:
                doc |= {"status": "suppressed", "next_attempt_at": None, "due_ts": None}
                doc.pop("send", None)
            else:
                doc["status"] = "pending"
            docs.append(doc)
        return docs

    @staticmethod
    def _undeliverable(doc: dict[str, Any], recipient: Recipient, channel: Channel, now: datetime) -> dict[str, Any]:
        """A notice with no address to go to: failed at once, visible in the log, announced by NoticeFailed
        (in its own outbox: inserted with the notice, published by the worker's relay)."""
        what = "mobile number" if channel == "sms" else "email address"
        if recipient.known:
            code, cause = "no_address", f"{recipient.subject} has no {what}"
        else:
            code, cause = "no_contact", f"{recipient.subject} is not in the contact book and the event names no {what}"
        error = f"{code}: {cause}"
        logger.warning("notice %s cannot be delivered: %s", doc["_id"], error)
        event = NoticeFailed(
            notice_id=doc["_id"],
            channel="sms" if channel == "sms" else "email",
            template=doc["template"],
            recipient="",
            cause_event_id=doc["cause_id"],
            attempts=0,
            error=error,
        )
        doc.pop("send", None)
        doc |= {
            "status": "failed",
            "error_code": code,
            "last_error": error,
            "errors": [error],
            "failed_at": now,
            "next_attempt_at": None,
            "due_ts": None,
            "deferred_until": None,
        }
        return with_outbox(doc, [outbox_entry(event, producer=PRODUCER)])
