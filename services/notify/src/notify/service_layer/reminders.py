"""Reminders that depend on time, run as scheduled jobs in the worker (idempotent: each reminder has
a cause id of its own, so a repeated tick finds its notices and adds none).

Audience of selection-window reminders: every active teacher in the contact book who is not a
special user. Selection is open to all active teachers (§2) except special users (§1: blocked from
selection until cleared), and the centre cannot know who still means to select, so all who can hear
that the window opens and that it closes within 24 hours.

The December points-expiry reminder is not here: the hours bank, which holds the balances and the
redemption rule, announces each balance that buys a whole hour (``PointsExpiring``) and the notice is
an ordinary route (``domain/routing.py``)."""

from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from jijiao_kit.clock import Clock
from notify.adapters.repositories import Contacts, Messages, Terms
from notify.domain.routing import local_time
from notify.domain.schedule import as_utc
from notify.domain.templates import template
from notify.service_layer.notices import Notifier, Recipient

logger = logging.getLogger(__name__)

CLOSING_NOTICE = timedelta(hours=24)
FAN_OUT_BATCH = 500


class Reminders:
    def __init__(
        self,
        terms: Terms,
        contacts: Contacts,
        messages: Messages,
        notifier: Notifier,
        clock: Clock,
        tz: ZoneInfo,
    ) -> None:
        self.terms = terms
        self.contacts = contacts
        self.messages = messages
        self.notifier = notifier
        self.clock = clock
        self.tz = tz

    async def selection_windows(self) -> int:
        now = self.clock.now()
        created = 0
        for term in await self.terms.all():
            opens, closes = as_utc(term["opens_at"]), as_utc(term["closes_at"])
            if not opens <= now < closes:
                continue
            due = [("opening", "selection_window_opening", opens)]
            if now >= closes - CLOSING_NOTICE:
                due.append(("closing", "selection_window_closing", closes))
            for reminder, key, at in due:
                cause = f"term:{term['_id']}:{reminder}:{at.isoformat()}"
                if (term.get("reminded") or {}).get(reminder) == cause:
                    continue
                created += await self._to_selecting_teachers(
                    cause, key, {"term": term["_id"], "closes_at": local_time(closes)}
                )
                await self.terms.mark_reminded(term["_id"], reminder, cause)
        return created

    async def _to_selecting_teachers(self, cause: str, key: str, values: dict[str, object]) -> int:
        tpl = template(key)
        created = 0
        batch: list[dict[str, object]] = []
        async for contact in self.contacts.teachers_who_can_select():
            batch.extend(self.notifier.build(cause, tpl, Recipient.of_contact(contact), dict(values)))
            if len(batch) >= FAN_OUT_BATCH:
                created += await self.notifier.store(batch)
                batch = []
        created += await self.notifier.store(batch)
        logger.info("%s: %d notices", cause, created)
        return created
