"""The yearly programme: batches, quotas, availability, demands, review, allocation and rewards.

Quotas and places are counters the store reserves (conditional ``$inc`` on one document each: the
zone-year quota, the year-stage places, the batch). A use case that reserves on two documents takes
them in a fixed order and gives back what it took if a later step refuses, so a refused request leaves
no trace. Each reservation notes a hold in the same write, so places a crashed request took and never
used are given back by the repair job (``service_layer.repair``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from baseline.adapters.repositories import (
    BatchRepository,
    DemandRepository,
    Hold,
    QuotaRepository,
    ReferenceRepository,
    StageRepository,
)
from baseline.domain import programme as rules
from baseline.domain.quota import BATCH_SIZE, REWARD_BATCHES, yearly_quota
from baseline.service_layer.access import acting_zone, can_see_batch, can_see_zone, is_centre, require_centre
from baseline.service_layer.problems import problem, refuse
from baseline.service_layer.reference import ReferenceService, actor
from jijiao_contracts.events import baseline as ev
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.outbox import outbox_entry
from jijiao_kit.timeutil import as_utc, epoch_ms

SHANGHAI = ZoneInfo("Asia/Shanghai")

Doc = dict[str, Any]

#: A hold older than this is the repair job's: it gives back what the hold took unless the document that
#: uses it exists (the process died between the two writes).
HOLD_GRACE_MS = 60_000
#: A request whose hold is older than this gives up before its last write (well inside the grace).
HOLD_WRITE_LIMIT_MS = 20_000


def quota_id(year: str, zone_id: str) -> str:
    return f"{year}:{zone_id}"


def deadline(year: Doc, field: str) -> datetime:
    value = as_utc(year[field])
    assert value is not None
    return value


@dataclass(frozen=True)
class NewBatch:
    base_id: str
    starts_on: date
    ends_on: date
    capacity: int  # zones per batch


@dataclass(frozen=True)
class NewAllocation:
    demand_id: str
    places: int | None = None  # default: what is left of the demand, at most a batch's 5
    zone_id: str | None = None  # if given, it must be the demand's zone


@dataclass(frozen=True)
class NewDemand:
    stage: str
    places: int
    purpose: str
    demand_type: str
    remark: str | None = None


class ProgrammeService:
    def __init__(
        self,
        reference: ReferenceService,
        references: ReferenceRepository,
        quotas: QuotaRepository,
        stages: StageRepository,
        demands: DemandRepository,
        batches: BatchRepository,
        clock: Clock,
        next_sequence: Any,
    ) -> None:
        self.reference = reference
        self.references = references
        self.quotas = quotas
        self.stages = stages
        self.demands = demands
        self.batches = batches
        self.clock = clock
        self.next_sequence = next_sequence
        self._ensured: set[str] = set()

    # quotas
    async def ensure_quota(self, year: str, zone_id: str) -> str:
        """The zone-year quota document exists, with the reward of the year before applied once."""
        qid = quota_id(year, zone_id)
        if qid in self._ensured:
            return qid
        base = yearly_quota(rewarded_last_year=False)
        await self.quotas.ensure(
            qid,
            {
                "year": year,
                "zone_id": zone_id,
                "batches": base.batches,
                "batch_size": base.batch_size,
                "reward_batches": 0,
                "person_times": base.person_times,
                "demand_left": base.person_times,
                "allocation_left": base.person_times,
                "batches_left": base.batches,
                "reward_applied": None,
            },
        )
        before = await self.references.get_year(rules.year_before(year))
        if before and zone_id in (before.get("rewarded") or {}):
            await self._apply_reward(qid)
        self._ensured.add(qid)
        return qid

    async def _apply_reward(self, qid: str) -> None:
        await self.quotas.apply_reward(
            qid, batches=REWARD_BATCHES, places=REWARD_BATCHES * BATCH_SIZE, now_ms=epoch_ms(self.clock.now())
        )

    async def quota(self, principal: Principal, year: str, zone_id: str | None) -> Doc:
        zone = zone_id if is_centre(principal) and zone_id else acting_zone(principal)
        year_doc = await self.reference.existing_year(year)
        if not can_see_zone(principal, zone) or await self.references.get_zone(zone) is None:
            raise problem("zone_not_found")
        doc = await self.quotas.get(await self.ensure_quota(year, zone))
        assert doc is not None
        return {**doc, "demand_deadline": deadline(year_doc, "demand_deadline")}

    # batches
    async def publish_batch(self, principal: Principal, year: str, new: NewBatch) -> Doc:
        require_centre(principal)
        await self.reference.existing_year(year)
        base = await self.references.get_base(new.base_id)
        if base is None:
            raise problem("base_not_found")
        refuse(rules.stay_refusal(new.starts_on, new.ends_on))
        batch = {
            "_id": uuid.uuid4().hex[:12],
            "year": year,
            "base_id": base["_id"],
            "base_name": base["name"],
            "stage": base["stage"],
            "starts_on": new.starts_on.isoformat(),
            "ends_on": new.ends_on.isoformat(),
            "start_ms": epoch_ms(datetime(new.starts_on.year, new.starts_on.month, new.starts_on.day)),
            "end_ms": epoch_ms(datetime(new.ends_on.year, new.ends_on.month, new.ends_on.day)),
            "capacity": new.capacity,
            "zones_left": new.capacity,
            "zones": {},
            "created_at": self.clock.now(),
        }
        await self.batches.add(batch)
        await self.stages.offer(year, base["stage"], new.capacity * BATCH_SIZE)
        return batch

    async def list_batches(self, principal: Principal, year: str, stage: str | None, mine: bool = False) -> list[Doc]:
        """The published schedule: the centre and zone contacts see every batch of the year (a zone
        contact only their own allocation in each, see the router); ``mine``: a zone's allocated ones."""
        await self.reference.existing_year(year)
        if is_centre(principal):
            return await self.batches.find(year, stage=stage)
        zone = acting_zone(principal)
        return await self.batches.find(year, zone_id=zone if mine else None, stage=stage)

    async def batch(self, principal: Principal, batch_id: str) -> Doc:
        batch = await self.batches.get(batch_id)
        if batch is None or not can_see_batch(principal, batch_id=batch_id):
            raise problem("batch_not_found")
        return batch

    async def availability(self, principal: Principal, year: str) -> list[Doc]:
        await self.reference.year(principal, year)
        by_stage = {doc["stage"]: doc for doc in await self.stages.list_year(year)}
        rows = []
        for stage, label in rules.STAGES.items():
            doc = by_stage.get(stage) or {}
            places, free = int(doc.get("places", 0)), int(doc.get("free", 0))
            hint = rules.availability(free, places)
            rows.append(
                {
                    "stage": stage,
                    "stage_label": label,
                    "places": places,
                    "free": free,
                    "hint": hint.value,
                    "hint_label": rules.AVAILABILITY_LABELS[hint],
                }
            )
        return rows

    # demands
    async def submit_demand(self, principal: Principal, year: str, new: NewDemand) -> Doc:
        zone_id = acting_zone(principal)
        year_doc = await self.reference.existing_year(year)
        if await self.references.get_zone(zone_id) is None:
            raise problem("zone_not_found")
        if new.stage not in rules.STAGES:
            raise problem("stage_invalid")
        stage = await self.stages.get(year, new.stage)
        refuse(
            rules.demand_refusal(
                now=self.clock.now(),
                deadline=deadline(year_doc, "demand_deadline"),
                stage_free=int((stage or {}).get("free", 0)),
                remark=new.remark,
            )
        )
        qid = await self.ensure_quota(year, zone_id)
        demand_id = uuid.uuid4().hex[:12]
        hold = Hold(demand_id, epoch_ms(self.clock.now()), {"demand_id": demand_id})
        taken = {"demand_left": new.places}
        if not await self.quotas.reserve_demand(qid, new.places, hold):
            raise problem("quota_exhausted")
        if not await self.stages.reserve(year, new.stage, new.places, hold):
            await self.quotas.give_back(qid, demand_id, taken)
            raise problem("stage_full")
        try:
            sequence = await self.next_sequence(f"demands:{year}")
            self._refuse_stale(hold)
        except BaseException:
            await self.stages.give_back(f"{year}:{new.stage}", demand_id, {"free": new.places})
            await self.quotas.give_back(qid, demand_id, taken)
            raise
        demand = {
            "_id": demand_id,
            "year": year,
            "zone_id": zone_id,
            "stage": new.stage,
            "places": new.places,
            "purpose": new.purpose,
            "demand_type": new.demand_type,
            "remark": (new.remark or "").strip() or None,
            "sequence": sequence,
            "status": "pending",
            "unallocated": new.places,  # what allocations may still take once approved
            "submitted_at": self.clock.now(),
            "submitted_by": principal.subject,
        }
        event = ev.DemandSubmitted(
            demand_id=demand_id,
            year=year,
            zone_id=zone_id,
            stage=new.stage,
            places=new.places,
            demand_type=new.demand_type,
            sequence=sequence,
        )
        # An error here may come after the insert was applied: the holds stay, and the repair job gives
        # the places back only if the demand does not exist (never both, never neither).
        await self.demands.add(demand, [outbox_entry(event, producer=ev.PRODUCER, actor=actor(principal))])
        return demand

    def _refuse_stale(self, hold: Hold) -> None:
        """A request that held its places for too long gives up before its last write, so the repair job
        (which gives back holds older than ``HOLD_GRACE_MS``) never races a write still on its way."""
        if epoch_ms(self.clock.now()) - hold.at_ms > HOLD_WRITE_LIMIT_MS:
            raise problem("busy")

    async def list_demands(self, principal: Principal, year: str) -> list[Doc]:
        await self.reference.existing_year(year)
        if is_centre(principal):
            return await self.demands.find(year)  # in submission order: early submitters first
        return await self.demands.find(year, acting_zone(principal))

    async def review_demand(self, principal: Principal, demand_id: str, approve: bool, comment: str | None) -> Doc:
        require_centre(principal)
        demand = await self.demands.get(demand_id)
        if demand is None:
            raise problem("demand_not_found")
        fields = {
            "status": "approved" if approve else "rejected",
            "review_comment": comment,
            "reviewed_at_ms": epoch_ms(self.clock.now()),
            "reviewed_by": principal.subject,
        }
        if not approve:  # the places go back to the stage and the zone's quota (the repair job finishes
            fields["release_pending"] = True  # a release a crash interrupted)
        if not await self.demands.review(demand_id, fields):
            raise problem("demand_reviewed")
        if not approve:
            await self.release_rejected({**demand, **fields})
        return {**demand, **fields}

    async def release_rejected(self, demand: Doc) -> None:
        """A rejected demand's places back to its stage and its zone's quota, each once."""
        await self.stages.release(demand["year"], demand["stage"], demand["_id"], demand["places"])
        await self.quotas.release_demand(quota_id(demand["year"], demand["zone_id"]), demand["_id"], demand["places"])
        await self.demands.released(demand["_id"])

    # allocation
    async def allocate(self, principal: Principal, batch_id: str, new: NewAllocation) -> Doc:
        """The centre allocates a batch to the zone of an approved demand of the batch's year and stage,
        at most the demand's unallocated places: the demand, the zone's quota and the batch are each a
        counter taken by one conditional write (in that order), each noting the same hold."""
        require_centre(principal)
        batch = await self.batches.get(batch_id)
        if batch is None:
            raise problem("batch_not_found")
        demand = await self.demands.get(new.demand_id)
        if demand is None or (new.zone_id is not None and new.zone_id != demand["zone_id"]):
            raise problem("demand_not_found")
        zone_id = demand["zone_id"]
        zone = await self.references.get_zone(zone_id)
        if zone is None:
            raise problem("zone_not_found")
        places = new.places or min(BATCH_SIZE, int(demand.get("unallocated", 0))) or 1
        refuse(rules.allocation_refusal(demand, batch_year=batch["year"], batch_stage=batch["stage"], places=places))
        if zone_id in (batch.get("zones") or {}):
            raise problem("already_allocated")
        year = await self.reference.existing_year(batch["year"])
        qid = await self.ensure_quota(batch["year"], zone_id)
        now = self.clock.now()
        hold = Hold(uuid.uuid4().hex[:16], epoch_ms(now), {"batch_id": batch_id, "zone_id": zone_id})
        if not await self.demands.take(demand["_id"], places, hold):
            raise problem("demand_exceeded")
        if not await self.quotas.reserve_allocation(qid, places, hold):
            await self.demands.give_back(demand["_id"], hold.hold_id, {"unallocated": places})
            raise problem("quota_exhausted")
        allocation = {
            "zone_id": zone_id,
            "zone_name": zone["name"],
            "places": places,
            "free": places,
            "count": 0,
            "trainees": {},
            "confirmed_at": None,
            "allocated_at": epoch_ms(now),
            "demand_id": demand["_id"],
            "demand_type": demand["demand_type"],
            "hold_id": hold.hold_id,  # the repair job's proof that this allocation used the hold
        }
        contact = zone.get("contact") or {}
        event = ev.BatchAllocated(
            batch_id=batch_id,
            year=batch["year"],
            zone_id=zone_id,
            zone_name=zone["name"],
            base_name=batch["base_name"],
            stage=batch["stage"],
            starts_on=batch["starts_on"],
            ends_on=batch["ends_on"],
            places=places,
            personnel_deadline=deadline(year, "personnel_deadline").isoformat(),
            contact_name=contact.get("name", ""),
            contact_mobile=contact.get("mobile", ""),
            contact_email=contact.get("email"),
        )
        entry = outbox_entry(event, producer=ev.PRODUCER, actor=actor(principal))
        try:
            self._refuse_stale(hold)
        except BaseException:
            await self._give_back_allocation(qid, demand["_id"], hold.hold_id, places)
            raise
        # As for demands: an error of this write leaves the holds to the repair job.
        if not await self.batches.allocate(batch_id, zone_id, allocation, [entry]):
            await self._give_back_allocation(qid, demand["_id"], hold.hold_id, places)
            fresh = await self.batches.get(batch_id) or {}
            raise problem("already_allocated" if zone_id in (fresh.get("zones") or {}) else "batch_full")
        return {**batch, "zones": {**(batch.get("zones") or {}), zone_id: allocation}}

    async def _give_back_allocation(self, qid: str, demand_id: str, hold_id: str, places: int) -> None:
        await self.quotas.give_back(qid, hold_id, {"allocation_left": places, "batches_left": 1})
        await self.demands.give_back(demand_id, hold_id, {"unallocated": places})

    # rewards
    async def reward(self, principal: Principal, year: str, zone_id: str) -> Doc:
        require_centre(principal)
        year_doc = await self.reference.existing_year(year)
        if await self.references.get_zone(zone_id) is None:
            raise problem("zone_not_found")
        last_day = max((date.fromisoformat(b["ends_on"]) for b in await self.batches.find(year)), default=None)
        refuse(rules.reward_refusal(today=self.clock.now().astimezone(SHANGHAI).date(), last_stay_ends=last_day))
        next_year = rules.year_after(year)
        event = ev.ZoneRewarded(zone_id=zone_id, year=year, next_year=next_year, extra_batches=REWARD_BATCHES)
        entry = outbox_entry(event, producer=ev.PRODUCER, actor=actor(principal))
        if not await self.references.reward(
            year, zone_id, epoch_ms(self.clock.now()), rules.MAX_REWARDED_ZONES, [entry]
        ):
            fresh = await self.references.get_year(year) or year_doc
            raise problem("already_rewarded" if zone_id in (fresh.get("rewarded") or {}) else "reward_limit")
        # Next year's quota grows now (idempotent: guarded by the quota's ``reward_applied``).
        await self._apply_reward(await self.ensure_quota(next_year, zone_id))
        return {"year": year, "zone_id": zone_id, "next_year": next_year, "extra_batches": REWARD_BATCHES}
