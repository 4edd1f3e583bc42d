from __future__ import annotations

from typing import Any

from hours.adapters.repositories import HoursAccounts
from hours.domain.totals import year_totals
from jijiao_kit.access import can_see_teacher
from jijiao_kit.auth import Principal
from jijiao_kit.errors import NotFound


class HoursQueries:
    def __init__(self, accounts: HoursAccounts) -> None:
        self.accounts = accounts

    async def year_hours(self, principal: Principal, ce_number: str, year: int) -> dict[str, Any]:
        account = await self.accounts.get(ce_number)
        if account is None or not can_see_teacher(
            principal, ce_number=ce_number, school_id=account.get("school_id"), district=account.get("district")
        ):
            raise NotFound(
                f"No hours account for {ce_number}.", code="teacher_not_found", title="找不到该教师的学时账户"
            )
        entries = await self.accounts.entries(ce_number, year)
        totals = year_totals(entries)
        return {
            "ce_number": ce_number,
            "year": year,
            "public": totals.public,
            "professional": totals.professional,
            "elective": totals.elective,
            "total": totals.total,
            "carried_in": totals.carried_in,
            "entries": entries,
        }
