"""The points bank as callers see it: who may read an account, redeem from it or register a fact."""

from __future__ import annotations

from typing import Any

from hours.adapters.repositories import Teachers
from hours.service_layer.access import ensure_can_see, is_self, require, teacher_not_found
from hours.service_layer.points import PointsBank
from jijiao_contracts import Actor
from jijiao_contracts.enums import HourCategory, Role
from jijiao_kit.auth import Principal
from jijiao_kit.errors import NotFound

Doc = dict[str, Any]


class TeacherPoints:
    def __init__(self, teachers: Teachers, points: PointsBank) -> None:
        self.teachers = teachers
        self.points = points

    async def account(self, principal: Principal, ce_number: str, year: int) -> Doc:
        """The account of a teacher the caller may see (404 otherwise)."""
        ensure_can_see(principal, ce_number, await self.teachers.get(ce_number))
        return await self.points.account(ce_number, year)

    async def redeem(
        self, principal: Principal, ce_number: str, year: int, category: HourCategory, hours: int
    ) -> tuple[Doc, Doc, Doc]:
        """Only the teacher redeems their own points. Returns (redemption, ledger entry, account)."""
        if not is_self(principal, ce_number):
            raise NotFound(
                "Only the teacher redeems their points.", code="teacher_not_found", title="找不到该教师的积分账户"
            )
        redemption, entry = await self.points.redeem(
            ce_number=ce_number,
            year=year,
            category=category,
            hours=hours,
            actor=Actor(subject=principal.subject, role=Role.TEACHER),
        )
        return redemption, entry, await self.points.account(ce_number, year)

    async def register(self, principal: Principal, ce_number: str, year: int, rule: str, reference: str) -> Doc | None:
        """A points fact registered by the remote-training centre or the city; None when it was before."""
        require(principal, Role.REMOTE_CENTRE, Role.CITY_ADMIN)
        if await self.teachers.get(ce_number) is None:
            raise teacher_not_found(ce_number)
        return await self.points.award(
            ce_number=ce_number, year=year, rule=rule, reference=reference, source=f"registration:{principal.subject}"
        )
