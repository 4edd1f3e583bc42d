"""Reminders that depend on time, run as scheduled jobs in the worker (idempotent: each reminder has
a cause id of its own, so a repeated tick finds its notices and adds none).

Audience of selection-window reminders: every active teacher in the contact book who is not a
special user. Selection is open to all active teachers (§2) except special users (§1: blocked from
selection until cleared), and the centre cannot know who still means to select, so all who can hear
that the window opens and that it closes within 24 hours.

The December points-expiry reminder goes only to balances that buy at least one hour: points are
redeemed in whole hours of ``points_per_hour`` (§7), so 1-99 points cannot be used before they expire."""

from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from jijiao_kit.clock import Clock
from notify.adapters.repositories import Contacts, Messages, PointsBalances, Terms
from notify.domain.routing import Teacher, local_time
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
        balances: PointsBalances,
        contacts: Contacts,
        messages: Messages,
        notifier: Notifier,
        clock: Clock,
        tz: ZoneInfo,
        points_per_hour: int = 100,
    ) -> None:
        self.terms = terms
        self.balances = balances
        self.contacts = contacts
        self.messages = messages
        self.notifier = notifier
        self.clock = clock
        self.tz = tz
        self.points_per_hour = points_per_hour

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

    async def points_expiry(self) -> int:
        """In December, remind teachers whose balance of the year buys at least one hour that points
        expire on 31 Dec."""
        local = as_utc(self.clock.now()).astimezone(self.tz)
        if local.month != 12:
            return 0
        created = 0
        tpl = template("points_expiring")
        while True:
            rows = await self.balances.redeemable(local.year, self.points_per_hour)
            if not rows:
                return created
            for row in rows:
                cause = f"points-expiry:{row['ce_number']}:{row['year']}"
                recipients = await self.notifier.recipients_for(Teacher(row["ce_number"]))
                for recipient in recipients:
                    docs = self.notifier.build(cause, tpl, recipient, {"year": row["year"], "balance": row["balance"]})
                    created += await self.notifier.store(docs)
            await self.balances.mark_reminded([row["_id"] for row in rows])
