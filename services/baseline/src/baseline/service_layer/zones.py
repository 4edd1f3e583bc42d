"""Experimental zones (实验区) and their contacts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from baseline.adapters.zones import ZoneNameTaken, ZoneRepository
from baseline.domain.quota import yearly_quota
from jijiao_contracts.enums import Role
from jijiao_kit.auth import Principal, require_roles
from jijiao_kit.clock import Clock
from jijiao_kit.errors import Conflict, NotFound


@dataclass(frozen=True)
class NewZone:
    name: str
    contact_name: str
    contact_mobile: str
    contact_email: str | None
    academic_year: int


class ZoneService:
    def __init__(self, zones: ZoneRepository, clock: Clock) -> None:
        self.zones = zones
        self.clock = clock

    async def create(self, principal: Principal, new: NewZone) -> dict[str, Any]:
        require_roles(principal, Role.BASE_ADMIN, Role.CITY_ADMIN)
        quota = yearly_quota(rewarded_last_year=False)
        zone = {
            "_id": uuid.uuid4().hex[:12],
            "name": new.name,
            "contact": {"name": new.contact_name, "mobile": new.contact_mobile, "email": new.contact_email},
            # Quotas per academic year, keyed by year (a map, not an array: see docs/DEVELOPING.md).
            "quotas": {
                str(new.academic_year): {
                    "batches": quota.batches,
                    "batch_size": quota.batch_size,
                    "reward_batches": quota.reward_batches,
                    "person_times": quota.person_times,
                    "allocated_batches": 0,
                }
            },
            "created_at": self.clock.now(),
        }
        try:
            await self.zones.add(zone)
        except ZoneNameTaken as exc:
            raise Conflict(f"Zone {new.name!r} exists.", code="zone_exists", title="实验区已存在") from exc
        return zone

    async def get(self, principal: Principal, zone_id: str) -> dict[str, Any]:
        zone = await self.zones.get(zone_id)
        allowed = principal.has_role(Role.BASE_ADMIN, Role.CITY_ADMIN) or principal.scopes.get("zone_id") == zone_id
        if zone is None or not allowed:
            raise NotFound(f"Zone {zone_id} not found.", code="zone_not_found", title="实验区不存在")
        return zone
