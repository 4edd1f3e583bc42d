"""Founding and reading studios."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from jijiao_contracts.enums import Role
from jijiao_kit.auth import Principal, require_roles
from jijiao_kit.clock import Clock
from jijiao_kit.errors import InvalidInput, NotFound
from studio.adapters.directory import TeacherDirectory
from studio.adapters.studios import StudioRepository
from studio.domain.studios import StudioType, has_assistants, member_quota


@dataclass(frozen=True)
class NewStudio:
    name: str
    studio_type: StudioType
    host_ce_number: str
    cycle_start_year: int
    cycle_years: int
    stage: str | None
    subject: str | None


class StudioService:
    def __init__(self, studios: StudioRepository, directory: TeacherDirectory, clock: Clock) -> None:
        self.studios = studios
        self.directory = directory
        self.clock = clock

    async def found(self, principal: Principal, new: NewStudio) -> dict[str, Any]:
        require_roles(principal, Role.CITY_ADMIN)
        host = await self.directory.get(new.host_ce_number)
        if host is None:
            raise InvalidInput(
                f"Host {new.host_ce_number} is not a registered teacher.",
                code="host_unknown",
                title="主持人不是已登记的教师",
            )
        low, high = member_quota(new.studio_type)
        studio = {
            "_id": uuid.uuid4().hex[:12],
            "name": new.name,
            "type": new.studio_type.value,
            "host_ce_number": new.host_ce_number,
            "host_name": host["name"],
            "cycle_start_year": new.cycle_start_year,
            "cycle_end_year": new.cycle_start_year + new.cycle_years - 1,
            "stage": new.stage,
            "subject": new.subject,
            "member_quota": {"min": low, "max": high},
            "members": 0,
            "has_assistants": has_assistants(new.studio_type),
            "created_at": self.clock.now(),
        }
        await self.studios.add(studio)
        return studio

    async def get(self, principal: Principal, studio_id: str) -> dict[str, Any]:
        studio = await self.studios.get(studio_id)
        if studio is None:
            raise NotFound(f"Studio {studio_id} not found.", code="studio_not_found", title="工作室不存在")
        return studio
