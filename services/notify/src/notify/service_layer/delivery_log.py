"""Reading the delivery log: who may see which notices, and statistics per day and type."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from jijiao_contracts.enums import Role
from jijiao_kit.access import ADMIN_LEVELS, scope_filter
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.errors import Forbidden, InvalidInput
from notify.adapters.repositories import STATUSES, Contacts, Messages
from notify.adapters.sms_sink import SmsSinkStore
from notify.domain.schedule import as_utc, local_day
from notify.domain.templates import TEMPLATES

ADMIN_ROLES = (Role.CITY_ADMIN.value, Role.DISTRICT_ADMIN.value, Role.SCHOOL_ADMIN.value)
MAX_STATS_DAYS = 366


def _may_read_text(principal: Principal, head: dict[str, Any]) -> bool:
    """A notice's unredacted text: anyone who may read the notice, unless it carries a secret (a code),
    which only its owner reads."""
    template = TEMPLATES.get(str(head.get("template")))
    return template is None or not template.secret_fields or head.get("subject") == principal.subject


def _forbidden() -> Forbidden:
    return Forbidden("You may only read your own messages.", code="messages_forbidden", title="只能查看本人的消息")


class DeliveryLog:
    def __init__(self, messages: Messages, contacts: Contacts, sink: SmsSinkStore, clock: Clock, tz: Any) -> None:
        self.messages = messages
        self.contacts = contacts
        self.sink = sink
        self.clock = clock
        self.tz = tz

    def admin_scope(self, principal: Principal) -> dict[str, Any] | None:
        """The notices an admin may read (None: not an admin). Admins always see their own too."""
        scope = scope_filter(principal, levels=ADMIN_LEVELS)
        if scope is None or ("school_id" in scope and not principal.has_role(Role.SCHOOL_ADMIN.value)):
            return None  # the principal alone has no school-wide view of notices
        if not scope:
            return {}
        return {"$or": [scope, {"subject": principal.subject}]}

    async def scope_for(self, principal: Principal, to: str) -> dict[str, Any]:
        scope = self.admin_scope(principal)
        if scope is not None:
            return scope
        own = {principal.scopes.get("mobile"), principal.scopes.get("email")}
        contact = await self.contacts.get(principal.subject)
        if contact is not None:
            own |= {contact.get("mobile"), contact.get("email")}
        if to not in own - {None}:
            raise _forbidden()
        return {"subject": principal.subject}

    async def list_messages(
        self, principal: Principal, *, to: str | None = None, subject: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """The log by recipient address and/or by subject (``teacher:<ce_number>``, ``account:<id>``).
        By subject the log also shows notices that had no address to go to (``to`` empty, failed)."""
        if to is None and subject is None:
            raise InvalidInput(
                "Give to (a mobile number or email address) or subject.",
                code="messages_filter_required",
                title="请指定接收号码、邮箱或接收人",
            )
        query: dict[str, Any] = {}
        scope: dict[str, Any] = {}
        if to is not None:
            scope = await self.scope_for(principal, to)
            query["to"] = to
        if subject is not None:
            subject_scope = self.scope_for_subject(principal, subject)  # refuses another's subject
            scope = scope if to is not None else subject_scope
            query["subject"] = subject
        return [self._view(doc) for doc in await self.messages.list_where(query, scope, limit)]

    def scope_for_subject(self, principal: Principal, subject: str) -> dict[str, Any]:
        scope = self.admin_scope(principal)
        if scope is not None:
            return scope
        if subject != principal.subject:
            raise _forbidden()
        return {"subject": principal.subject}

    async def sink_to(self, principal: Principal, to: str) -> list[dict[str, Any]]:
        """What the development sink received for ``to``: the messages the caller may read in the log
        (a school admin must not read the city admin's notices), each kept under its notice's id. The
        sink holds the real text, where the log redacts a code: a message with secret fields (a
        verification code) is shown only to its owner and the city admin, not to a district admin or
        a colleague who may read the school's notices."""
        scope = await self.scope_for(principal, to)
        received = await self.sink.list_to(to)
        if not principal.has_role(Role.CITY_ADMIN.value):
            heads = await self.messages.readable_heads([doc["id"] for doc in received], scope)
            received = [doc for doc in received if doc["id"] in heads and _may_read_text(principal, heads[doc["id"]])]
        return [{**doc, "received_at": as_utc(doc["received_at"])} for doc in received]

    async def stats(self, principal: Principal, since: date | None, until: date | None) -> dict[str, Any]:
        scope = self.admin_scope(principal)
        if scope is None:
            raise Forbidden(
                "Statistics are for administrators.", code="stats_forbidden", title="只有管理员可以查看统计"
            )
        today = date.fromisoformat(local_day(self.clock.now(), self.tz))
        until = until or today
        since = since or until - timedelta(days=6)
        if since > until or (until - since).days > MAX_STATS_DAYS:
            raise InvalidInput(
                "since must be on or before until, at most a year apart.",
                code="stats_range_invalid",
                title="统计日期范围无效",
            )
        rows = await self.messages.stats(since.isoformat(), until.isoformat(), scope)
        table = []
        for row in rows:
            day, template, channel = str(row["_id"]).split("|")
            by_status = {status: int(row[status]) for status in STATUSES if row.get(status)}
            table.append(
                {
                    "day": day,
                    "template": template,
                    "channel": channel,
                    "total": int(row["total"]),
                    "segments": int(row.get("segments") or 0),
                    "by_status": by_status,
                }
            )
        table.sort(key=lambda entry: (entry["day"], entry["template"], entry["channel"]))
        return {"since": since, "until": until, "rows": table}

    @staticmethod
    def _view(doc: dict[str, Any]) -> dict[str, Any]:
        view = {**doc, "id": doc["_id"]}
        for name in ("created_at", "updated_at", "sent_at", "failed_at", "next_attempt_at", "deferred_until"):
            if view.get(name) is not None:
                view[name] = as_utc(view[name])
        return view
