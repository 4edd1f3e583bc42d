"""Reference data the centre manages: bases (研修基地), zones (实验区) and academic years (学年)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from baseline.adapters.repositories import BatchRepository, Duplicate, ReferenceRepository
from baseline.domain import programme as rules
from baseline.service_layer.access import can_see_zone, is_centre, require_centre, zone_of
from baseline.service_layer.problems import problem, refuse
from jijiao_contracts import Actor
from jijiao_contracts.events import baseline as ev
from jijiao_kit.auth import Principal
from jijiao_kit.clock import Clock
from jijiao_kit.errors import Forbidden
from jijiao_kit.outbox import outbox_entry
from jijiao_kit.timeutil import epoch_ms

Doc = dict[str, Any]
#: Fields of an academic year only the centre reads (the zones rewarded at its end).
CENTRE_ONLY_YEAR_FIELDS = frozenset({"rewarded", "rewarded_count"})


def actor(principal: Principal) -> Actor:
    return Actor(subject=principal.subject, role=sorted(principal.roles)[0] if principal.roles else None)


@dataclass(frozen=True)
class Contact:
    name: str
    mobile: str
    email: str | None = None


@dataclass(frozen=True)
class NewBase:
    name: str
    stage: str
    region: str
    contact: Contact


@dataclass(frozen=True)
class BaseChange:
    name: str | None = None
    region: str | None = None
    contact: Contact | None = None


@dataclass(frozen=True)
class NewZone:
    name: str
    contact: Contact
    region: str | None = None


@dataclass(frozen=True)
class NewYear:
    year: str
    demand_deadline: datetime
    personnel_deadline: datetime
    report_deadline: datetime


def _contact(contact: Contact) -> Doc:
    return {"name": contact.name, "mobile": contact.mobile, "email": contact.email}


class ReferenceService:
    def __init__(self, repository: ReferenceRepository, clock: Clock, batches: BatchRepository | None = None) -> None:
        self.repository = repository
        self.clock = clock
        self.batches = batches

    # bases
    async def add_base(self, principal: Principal, new: NewBase) -> Doc:
        require_centre(principal)
        if new.stage not in rules.STAGES:
            raise problem("stage_invalid")
        base = {
            "_id": uuid.uuid4().hex[:12],
            "name": new.name,
            "stage": new.stage,
            "region": new.region,
            "contact": _contact(new.contact),
            "created_at": self.clock.now(),
        }
        try:
            await self.repository.add_base(base)
        except Duplicate as exc:
            raise problem("base_exists") from exc
        return base

    async def change_base(self, principal: Principal, base_id: str, change: BaseChange) -> Doc:
        """The centre corrects a base's name, region or contact (its stage stays: places were offered by
        it). Its batches take the new name; repeating the call finishes a rename a crash interrupted."""
        require_centre(principal)
        fields: Doc = {k: v for k, v in {"name": change.name, "region": change.region}.items() if v is not None}
        if change.contact is not None:
            fields["contact"] = _contact(change.contact)
        try:
            if not await self.repository.update_base(base_id, fields):
                raise problem("base_not_found")
        except Duplicate as exc:
            raise problem("base_exists") from exc
        base = await self.repository.get_base(base_id)
        assert base is not None
        if change.name is not None and self.batches is not None:
            await self.batches.rename_base(base_id, base["name"])
        return base

    async def list_bases(self, principal: Principal) -> list[Doc]:
        self._require_programme_role(principal)
        return await self.repository.list_bases()

    # zones
    async def add_zone(self, principal: Principal, new: NewZone) -> Doc:
        require_centre(principal)
        zone = {
            "_id": uuid.uuid4().hex[:12],
            "name": new.name,
            "region": new.region,
            "contact": _contact(new.contact),
            "created_at": self.clock.now(),
        }
        event = ev.ZoneContactAppointed(
            zone_id=zone["_id"],
            zone_name=new.name,
            contact_name=new.contact.name,
            contact_mobile=new.contact.mobile,
            contact_email=new.contact.email,
        )
        entry = outbox_entry(event, producer=ev.PRODUCER, actor=actor(principal))
        try:
            await self.repository.add_zone(zone, [entry])
        except Duplicate as exc:
            raise problem("zone_exists") from exc
        return zone

    async def change_zone_contact(self, principal: Principal, zone_id: str, contact: Contact) -> Doc:
        """A new contact for the zone: the zone's login moves to them (enrollment issues a new initial
        secret to the new mobile; the old one stops working)."""
        require_centre(principal)
        zone = await self.repository.get_zone(zone_id)
        if zone is None:
            raise problem("zone_not_found")
        event = ev.ZoneContactAppointed(
            zone_id=zone_id,
            zone_name=zone["name"],
            contact_name=contact.name,
            contact_mobile=contact.mobile,
            contact_email=contact.email,
        )
        entry = outbox_entry(event, producer=ev.PRODUCER, actor=actor(principal))
        if not await self.repository.set_zone_contact(zone_id, _contact(contact), [entry]):
            raise problem("zone_not_found")
        return {**zone, "contact": _contact(contact)}

    async def change_zone(self, principal: Principal, zone_id: str, name: str | None, region: str | None) -> Doc:
        """The centre corrects a zone's name or region (its contact moves by ``change_zone_contact``); the
        allocations in batches take the new name."""
        require_centre(principal)
        fields = {k: v for k, v in {"name": name, "region": region}.items() if v is not None}
        try:
            if not await self.repository.update_zone(zone_id, fields):
                raise problem("zone_not_found")
        except Duplicate as exc:
            raise problem("zone_exists") from exc
        zone = await self.repository.get_zone(zone_id)
        assert zone is not None
        if name is not None and self.batches is not None:
            await self.batches.rename_zone(zone_id, zone["name"])
        return zone

    async def get_zone(self, principal: Principal, zone_id: str) -> Doc:
        zone = await self.repository.get_zone(zone_id)
        if zone is None or not can_see_zone(principal, zone_id):
            raise problem("zone_not_found")
        return zone

    async def list_zones(self, principal: Principal) -> list[Doc]:
        if is_centre(principal):
            return await self.repository.list_zones()
        zone = zone_of(principal)
        if zone is None or not can_see_zone(principal, zone):
            raise Forbidden("Zones are for the centre and zone contacts.", code="forbidden")
        return await self.repository.list_zones([zone])

    # academic years
    async def add_year(self, principal: Principal, new: NewYear) -> Doc:
        require_centre(principal)
        if rules.parse_year(new.year) is None:
            raise problem("year_invalid")
        refuse(
            rules.deadlines_refusal(
                demand=new.demand_deadline, personnel=new.personnel_deadline, report=new.report_deadline
            )
        )
        year = {
            "_id": new.year,
            "demand_deadline": epoch_ms(new.demand_deadline),
            "personnel_deadline": epoch_ms(new.personnel_deadline),
            "report_deadline": epoch_ms(new.report_deadline),
            "rewarded": {},
            "rewarded_count": 0,
            "created_at": self.clock.now(),
        }
        try:
            await self.repository.add_year(year)
        except Duplicate as exc:
            raise problem("year_exists") from exc
        return year

    async def change_deadlines(self, principal: Principal, new: NewYear) -> Doc:
        """The centre moves a year's deadlines (in the same order as at creation)."""
        require_centre(principal)
        refuse(
            rules.deadlines_refusal(
                demand=new.demand_deadline, personnel=new.personnel_deadline, report=new.report_deadline
            )
        )
        deadlines = {
            "demand_deadline": epoch_ms(new.demand_deadline),
            "personnel_deadline": epoch_ms(new.personnel_deadline),
            "report_deadline": epoch_ms(new.report_deadline),
        }
        if rules.parse_year(new.year) is None or not await self.repository.set_deadlines(new.year, deadlines):
            raise problem("year_not_found")
        return await self.existing_year(new.year)

    async def year(self, principal: Principal, year: str) -> Doc:
        """The year as the caller may see it: which zones were rewarded is the centre's business (a zone
        contact reads its own reward in its quota), so others get the year without ``rewarded``."""
        self._require_programme_role(principal)
        doc = await self.existing_year(year)
        if is_centre(principal):
            return doc
        return {key: value for key, value in doc.items() if key not in CENTRE_ONLY_YEAR_FIELDS}

    async def existing_year(self, year: str) -> Doc:
        doc = await self.repository.get_year(year) if rules.parse_year(year) is not None else None
        if doc is None:
            raise problem("year_not_found")
        return doc

    @staticmethod
    def _require_programme_role(principal: Principal) -> None:
        if not (is_centre(principal) or zone_of(principal)):
            raise Forbidden("The programme is for the centre, zone contacts and trainees.", code="forbidden")
