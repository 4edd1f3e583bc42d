"""After the stay (item 9): one outcome report (学习成果) per trainee within three months, the sharing
session (分享报告, manual 四.7) each trainee gives in their zone within the same three months, reminders
before the deadline (a periodic job) and who is overdue with either."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from baseline.adapters.repositories import BatchRepository, Duplicate, OutcomeRepository
from baseline.domain import programme as rules
from baseline.service_layer.personnel import SHANGHAI, PersonnelService, trainees_of
from baseline.service_layer.problems import problem, refuse
from jijiao_contracts import Actor
from jijiao_contracts.events import baseline as ev
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.outbox import outbox_entry
from jijiao_kit.timeutil import epoch_ms

Doc = dict[str, Any]
logger = logging.getLogger(__name__)
SYSTEM = Actor(subject="system:baseline.outcome_reminders", role="system")


@dataclass(frozen=True)
class Sharing:
    """The sharing session (分享报告) a trainee gave in their zone: its day and an optional note."""

    shared_on: date
    note: str | None = None


@dataclass(frozen=True)
class NewOutcome:
    title: str
    summary: str
    shared_on: date | None  # the sharing session in the zone, if it took place already
    sharing_note: str | None


class OutcomeService:
    def __init__(
        self, personnel: PersonnelService, batches: BatchRepository, outcomes: OutcomeRepository, clock: Clock
    ) -> None:
        self.personnel = personnel
        self.batches = batches
        self.outcomes = outcomes
        self.clock = clock

    def today(self) -> date:
        return self.clock.now().astimezone(SHANGHAI).date()

    async def upload(self, principal: Principal, new: NewOutcome) -> Doc:
        """The report, once; a sharing session given with it is checked first and recorded as by
        ``record_sharing``."""
        ref, batch, _ = await self.personnel.me(principal)
        today, ends_on = self.today(), date.fromisoformat(batch["ends_on"])
        refuse(rules.outcome_refusal(today=today, ends_on=ends_on))
        sharing = Sharing(new.shared_on, new.sharing_note) if new.shared_on else None
        if sharing:
            refuse(rules.sharing_refusal(today=today, ends_on=ends_on, shared_on=sharing.shared_on))
        outcome = {
            "_id": ref.trainee_id,
            "trainee_id": ref.trainee_id,
            "batch_id": ref.batch_id,
            "zone_id": ref.zone_id,
            "year": batch["year"],
            "title": new.title,
            "summary": new.summary,
            "uploaded_at": self.clock.now(),
        }
        try:
            await self.outcomes.add(outcome)
        except Duplicate as exc:
            raise problem("outcome_exists") from exc
        if sharing:
            recorded = await self._record(ref.trainee_id, ref.batch_id, ref.zone_id, batch["year"], sharing)
            return {**outcome, "shared_on": recorded["shared_on"], "sharing_note": recorded["sharing_note"]}
        return outcome

    async def record_sharing(self, principal: Principal, sharing: Sharing) -> Doc:
        """The trainee records (or corrects) their sharing session: within the three months after the stay,
        for a day from the stay's last day to today (Shanghai)."""
        ref, batch, _ = await self.personnel.me(principal)
        ends_on = date.fromisoformat(batch["ends_on"])
        refuse(rules.sharing_refusal(today=self.today(), ends_on=ends_on, shared_on=sharing.shared_on))
        return await self._record(ref.trainee_id, ref.batch_id, ref.zone_id, batch["year"], sharing)

    async def _record(self, trainee_id: str, batch_id: str, zone_id: str, year: str, sharing: Sharing) -> Doc:
        doc = {
            "_id": trainee_id,
            "trainee_id": trainee_id,
            "batch_id": batch_id,
            "zone_id": zone_id,
            "year": year,
            "shared_on": sharing.shared_on.isoformat(),
            "sharing_note": sharing.note,
            "recorded_ms": epoch_ms(self.clock.now()),
        }
        await self.outcomes.record_sharing(doc)
        return doc

    async def status(self, principal: Principal, batch_id: str, zone_id: str) -> list[Doc]:
        """Per trainee of the zone in the batch: report uploaded or not, sharing session recorded or not,
        the due day, and which of the two is overdue."""
        _, trainees = await self.personnel.roster(principal, batch_id, zone_id)
        batch = await self.batches.get(batch_id) or {}
        due = rules.outcome_due(date.fromisoformat(batch["ends_on"]))
        ids = [t["trainee_id"] for t in trainees]
        uploaded = await self.outcomes.of_trainees(ids)
        shared = await self.outcomes.sharings_of(ids)
        today = self.today()
        rows = []
        for t in trainees:
            tid = t["trainee_id"]
            sharing = shared.get(tid)
            rows.append(
                {
                    "trainee_id": tid,
                    "name": t["name"],
                    "uploaded": tid in uploaded,
                    "due_on": due,
                    "overdue": tid not in uploaded and today > due,
                    "shared": sharing is not None,
                    "shared_on": sharing["shared_on"] if sharing else None,
                    "sharing_overdue": sharing is None and today > due,
                }
            )
        return rows

    async def remind(self) -> int:
        """The periodic job: an SMS reminder in the last two weeks of the window, an overdue event after
        it; each once per trainee (a conditional write of ``reminded_at``/``overdue_at``)."""
        today = self.today()
        since = today - timedelta(days=130)  # three months and the days after that still flag overdue
        batches = await self.batches.ended_between(
            epoch_ms(_midnight(since)), epoch_ms(_midnight(today - timedelta(days=1)))
        )
        sent = 0
        for batch in batches:
            ends_on = date.fromisoformat(batch["ends_on"])
            due = rules.outcome_due(ends_on)
            for zone_id, allocation in (batch.get("zones") or {}).items():
                if not allocation.get("confirmed_at"):
                    continue
                trainees = trainees_of(batch, zone_id)
                uploaded = await self.outcomes.of_trainees([t["trainee_id"] for t in trainees])
                for t in trainees:
                    if t["trainee_id"] in uploaded:
                        continue
                    sent += await self._flag(batch, zone_id, t, today, ends_on, due)
        return sent

    async def _flag(self, batch: Doc, zone_id: str, trainee: Doc, today: date, ends_on: date, due: date) -> int:
        now_ms = epoch_ms(self.clock.now())
        tid = trainee["trainee_id"]
        if rules.overdue(today=today, ends_on=ends_on) and not trainee.get("overdue_at"):
            event: Any = ev.OutcomeOverdue(
                trainee_id=tid, batch_id=batch["_id"], zone_id=zone_id, due_on=due.isoformat()
            )
            entry = outbox_entry(event, producer=ev.PRODUCER, actor=SYSTEM)
            return int(await self.batches.mark_trainee(batch["_id"], zone_id, tid, "overdue_at", now_ms, [entry]))
        if rules.reminder_due(today=today, ends_on=ends_on) and not trainee.get("reminded_at"):
            event = ev.OutcomeReminderDue(
                trainee_id=tid,
                batch_id=batch["_id"],
                zone_id=zone_id,
                name=trainee["name"],
                mobile=trainee["mobile"],
                due_on=due.isoformat(),
            )
            entry = outbox_entry(event, producer=ev.PRODUCER, actor=SYSTEM)
            return int(await self.batches.mark_trainee(batch["_id"], zone_id, tid, "reminded_at", now_ms, [entry]))
        return 0


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)
