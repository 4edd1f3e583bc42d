"""Personnel (研修人员管理): the trainees a zone sends to an allocated batch, their confirmation,
reporting (报到) and check-in (签到)."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from baseline.adapters.repositories import BatchRepository
from baseline.domain import programme as rules
from baseline.service_layer.access import TraineeRef, acting_trainee, can_see_zone, is_centre
from baseline.service_layer.problems import problem, refuse
from baseline.service_layer.programme import deadline
from baseline.service_layer.reference import ReferenceService, actor
from jijiao_contracts.events import baseline as ev
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.outbox import outbox_entry
from jijiao_kit.timeutil import epoch_ms

Doc = dict[str, Any]
SHANGHAI = ZoneInfo("Asia/Shanghai")
#: The fields of a confirmed trainee their login carries: a change of one goes to enrollment.
LOGIN_FIELDS = ("name", "mobile", "email")


@dataclass(frozen=True)
class TraineeFields:
    name: str
    gender: str
    post: str
    mobile: str
    email: str | None
    employer: str
    subject: str
    role: str  # "member" or "leader" (团长)


def trainees_of(batch: Doc, zone_id: str) -> list[Doc]:
    allocation = (batch.get("zones") or {}).get(zone_id) or {}
    return sorted((allocation.get("trainees") or {}).values(), key=lambda t: t.get("added_ms", 0))


class PersonnelService:
    def __init__(self, reference: ReferenceService, batches: BatchRepository, clock: Clock) -> None:
        self.reference = reference
        self.batches = batches
        self.clock = clock

    def today(self) -> date:
        return self.clock.now().astimezone(SHANGHAI).date()

    async def _allocation(self, principal: Principal, batch_id: str, zone_id: str) -> tuple[Doc, Doc]:
        """The batch and the zone's allocation in it, if the caller may manage it (else 404)."""
        batch = await self.batches.get(batch_id)
        if batch is None or not can_see_zone(principal, zone_id):
            raise problem("batch_not_found")
        allocation = (batch.get("zones") or {}).get(zone_id)
        if allocation is None:
            raise problem("not_allocated")
        return batch, allocation

    async def _may_change(self, principal: Principal, batch: Doc, allocation: Doc) -> bool:
        by_centre = is_centre(principal)
        year = await self.reference.existing_year(batch["year"])
        refuse(
            rules.personnel_refusal(
                now=self.clock.now(),
                deadline=deadline(year, "personnel_deadline"),
                confirmed=bool(allocation.get("confirmed_at")),
                by_centre=by_centre,
            )
        )
        return by_centre

    async def roster(self, principal: Principal, batch_id: str, zone_id: str) -> tuple[Doc, list[Doc]]:
        batch, allocation = await self._allocation(principal, batch_id, zone_id)
        return allocation, trainees_of(batch, zone_id)

    async def _refuse_after_race(
        self,
        batch_id: str,
        zone_id: str,
        *,
        by_centre: bool,
        read_confirmed: bool,
        trainee_id: str | None = None,
        otherwise: str = "personnel_changed",
    ) -> None:
        """Refuse a write to a zone's list that matched nothing, with the reason read from the list as it
        is now: the trainee is gone, the list was confirmed meanwhile (the zone contact may no longer
        change it), or it changed under the caller (409 ``personnel_changed``: read it again and retry)."""
        refuse(await self._refusal_after_race(batch_id, zone_id, by_centre, read_confirmed, trainee_id, otherwise))

    async def _refusal_after_race(
        self, batch_id: str, zone_id: str, by_centre: bool, read_confirmed: bool, trainee_id: str | None, otherwise: str
    ) -> str:
        fresh = ((await self.batches.get(batch_id) or {}).get("zones") or {}).get(zone_id) or {}
        confirmed = bool(fresh.get("confirmed_at"))
        if trainee_id is not None and trainee_id not in (fresh.get("trainees") or {}):
            return "trainee_not_found"
        if confirmed and not by_centre:
            return "personnel_confirmed"
        return "personnel_changed" if confirmed != read_confirmed else otherwise

    async def add(self, principal: Principal, batch_id: str, zone_id: str, fields: TraineeFields) -> Doc:
        batch, allocation = await self._allocation(principal, batch_id, zone_id)
        by_centre = await self._may_change(principal, batch, allocation)
        confirmed = bool(allocation.get("confirmed_at"))
        trainee = {
            "trainee_id": uuid.uuid4().hex[:12],
            **asdict(fields),
            "added_ms": epoch_ms(self.clock.now()),
            "reported_at": None,
            "checked_in_at": None,
            "reminded_at": None,
            "overdue_at": None,
        }
        entries = []
        if confirmed:  # the centre adds to a confirmed list: this trainee's login too
            year = await self.reference.existing_year(batch["year"])
            event = self._confirmed(batch, zone_id, year, [trainee])
            entries.append(outbox_entry(event, producer=ev.PRODUCER, actor=actor(principal)))
        # The write requires the confirmation state read, so the login event goes with exactly the
        # adds that need it (an add racing the confirmation either lands first or is refused).
        if not await self.batches.add_trainee(batch_id, zone_id, trainee, confirmed=confirmed, entries=entries):
            await self._refuse_after_race(
                batch_id, zone_id, by_centre=by_centre, read_confirmed=confirmed, otherwise="batch_trainees_full"
            )
        return trainee

    async def update(
        self, principal: Principal, batch_id: str, zone_id: str, trainee_id: str, fields: TraineeFields
    ) -> Doc:
        batch, allocation = await self._allocation(principal, batch_id, zone_id)
        stored = (allocation.get("trainees") or {}).get(trainee_id)
        if stored is None:
            raise problem("trainee_not_found")
        by_centre = await self._may_change(principal, batch, allocation)
        confirmed = bool(allocation.get("confirmed_at"))
        version = allocation.get("version")
        changed = {**stored, **asdict(fields)}
        entries = []
        if confirmed and any(stored.get(key) != changed.get(key) for key in LOGIN_FIELDS):
            # The centre changed a confirmed trainee's contact details: the login follows (a new
            # mobile gets a new initial secret). The write requires the version read, so this
            # event's version is exactly the list's version after it.
            year = await self.reference.existing_year(batch["year"])
            event = ev.TraineeChanged(
                trainee_id=trainee_id,
                batch_id=batch_id,
                zone_id=zone_id,
                year=batch["year"],
                name=changed["name"],
                mobile=changed["mobile"],
                email=changed.get("email"),
                role=changed["role"],
                report_deadline=deadline(year, "report_deadline").isoformat(),
                version=int(version or 0) + 1,
            )
            entries.append(outbox_entry(event, producer=ev.PRODUCER, actor=actor(principal)))
        written = await self.batches.update_trainee(
            batch_id, zone_id, trainee_id, asdict(fields), confirmed=confirmed, version=version, entries=entries
        )
        if not written:
            await self._refuse_after_race(
                batch_id, zone_id, by_centre=by_centre, read_confirmed=confirmed, trainee_id=trainee_id
            )
        return changed

    async def remove(self, principal: Principal, batch_id: str, zone_id: str, trainee_id: str) -> None:
        batch, allocation = await self._allocation(principal, batch_id, zone_id)
        if trainee_id not in (allocation.get("trainees") or {}):
            raise problem("trainee_not_found")
        by_centre = await self._may_change(principal, batch, allocation)
        confirmed = bool(allocation.get("confirmed_at"))
        entries = []
        if confirmed:  # a confirmed trainee has a login: it closes
            event = ev.TraineeWithdrawn(trainee_id=trainee_id, batch_id=batch_id, zone_id=zone_id)
            entries.append(outbox_entry(event, producer=ev.PRODUCER, actor=actor(principal)))
        if not await self.batches.remove_trainee(batch_id, zone_id, trainee_id, confirmed=confirmed, entries=entries):
            await self._refuse_after_race(
                batch_id, zone_id, by_centre=by_centre, read_confirmed=confirmed, trainee_id=trainee_id
            )

    async def confirm(self, principal: Principal, batch_id: str, zone_id: str) -> Doc:
        """Confirm the list as read: an add, change or removal landing before this write makes it
        refuse with 409 ``personnel_changed`` (read again, retry), so the ``TraineesConfirmed`` event
        always lists the stored trainees with their stored mobiles."""
        batch, allocation = await self._allocation(principal, batch_id, zone_id)
        await self._may_change(principal, batch, allocation)
        trainees = trainees_of(batch, zone_id)
        if not trainees:
            raise problem("personnel_empty")
        year = await self.reference.existing_year(batch["year"])
        event = self._confirmed(batch, zone_id, year, trainees)
        now_ms = epoch_ms(self.clock.now())
        entry = outbox_entry(event, producer=ev.PRODUCER, actor=actor(principal))
        if not await self.batches.confirm(batch_id, zone_id, allocation.get("version"), now_ms, [entry]):
            fresh = ((await self.batches.get(batch_id) or {}).get("zones") or {}).get(zone_id) or {}
            if fresh.get("confirmed_at"):
                raise problem("personnel_confirmed")
            raise problem("personnel_changed" if fresh.get("count") else "personnel_empty")
        return {**allocation, "confirmed_at": now_ms}

    @staticmethod
    def _confirmed(batch: Doc, zone_id: str, year: Doc, trainees: list[Doc]) -> ev.TraineesConfirmed:
        return ev.TraineesConfirmed(
            batch_id=batch["_id"],
            year=batch["year"],
            zone_id=zone_id,
            base_name=batch["base_name"],
            starts_on=batch["starts_on"],
            ends_on=batch["ends_on"],
            report_deadline=deadline(year, "report_deadline").isoformat(),
            trainees=[
                ev.ConfirmedTrainee(
                    trainee_id=t["trainee_id"], name=t["name"], mobile=t["mobile"], email=t.get("email"), role=t["role"]
                )
                for t in trainees
            ],
        )

    async def reports(self, principal: Principal, batch_id: str, zone_id: str) -> list[Doc]:
        """Who reported (报到) and who has not, for the zone contact and the centre."""
        batch, _ = await self._allocation(principal, batch_id, zone_id)
        return trainees_of(batch, zone_id)

    # the trainee's own actions
    async def me(self, principal: Principal) -> tuple[TraineeRef, Doc, Doc]:
        ref = acting_trainee(principal)
        batch = await self.batches.get(ref.batch_id)
        allocation = ((batch or {}).get("zones") or {}).get(ref.zone_id) or {}
        trainee = (allocation.get("trainees") or {}).get(ref.trainee_id)
        if batch is None or trainee is None:
            raise problem("trainee_not_found")
        return ref, batch, trainee

    async def report(self, principal: Principal) -> Doc:
        ref, batch, trainee = await self.me(principal)
        allocation = batch["zones"][ref.zone_id]
        year = await self.reference.existing_year(batch["year"])
        refuse(
            rules.report_refusal(
                now=self.clock.now(),
                deadline=deadline(year, "report_deadline"),
                confirmed=bool(allocation.get("confirmed_at")),
            )
        )
        now_ms = epoch_ms(self.clock.now())
        if not await self.batches.mark_trainee(ref.batch_id, ref.zone_id, ref.trainee_id, "reported_at", now_ms):
            raise problem("already_reported")
        return {**trainee, "reported_at": now_ms}

    async def check_in(self, principal: Principal, batch_id: str) -> Doc:
        ref, batch, trainee = await self.me(principal)
        if batch_id != ref.batch_id:  # not for another batch
            raise problem("batch_not_found")
        refuse(
            rules.check_in_refusal(
                today=self.today(),
                starts_on=date.fromisoformat(batch["starts_on"]),
                ends_on=date.fromisoformat(batch["ends_on"]),
            )
        )
        now_ms = epoch_ms(self.clock.now())
        event = ev.TraineeCheckedIn(
            trainee_id=ref.trainee_id, batch_id=ref.batch_id, zone_id=ref.zone_id, year=batch["year"]
        )
        entry = outbox_entry(event, producer=ev.PRODUCER, actor=actor(principal))
        if not await self.batches.mark_trainee(
            ref.batch_id, ref.zone_id, ref.trainee_id, "checked_in_at", now_ms, [entry]
        ):
            raise problem("already_checked_in")
        return {**trainee, "checked_in_at": now_ms}
