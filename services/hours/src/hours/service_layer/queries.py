"""Read side: a teacher's year of hours, verification, points."""

from __future__ import annotations

from typing import Any

from hours.adapters.documents import verification_pdf
from hours.adapters.repositories import Teachers
from hours.domain.units import to_hours, to_units
from hours.service_layer.access import ensure_can_see
from hours.service_layer.crediting import HoursBank
from hours.service_layer.rules import RulesService
from hours.service_layer.verification import VerificationService, verification_view
from jijiao_kit.auth import Principal


def entry_view(entry: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "year",
        "category",
        "source",
        "cap_group",
        "requested",
        "credited",
        "not_credited",
        "reason",
        "reason_text",
        "reference",
        "registered_by",
        "recorded_at",
        "detail",
        "adjusts",
    )
    return {"id": entry["_id"], **{key: entry.get(key) for key in keys}}


class HoursQueries:
    def __init__(
        self, teachers: Teachers, bank: HoursBank, verification: VerificationService, rules: RulesService
    ) -> None:
        self.teachers = teachers
        self.bank = bank
        self.verification = verification
        self.rules = rules

    async def teacher(self, principal: Principal, ce_number: str) -> dict[str, Any]:
        return ensure_can_see(principal, ce_number, await self.teachers.get(ce_number))

    async def year_hours(self, principal: Principal, ce_number: str, year: int) -> dict[str, Any]:
        await self.teacher(principal, ce_number)
        entries = await self.bank.entries(ce_number, year, year)
        result = await self.verification.for_teacher(ce_number, year)
        sums = {"public": 0, "professional": 0, "elective": 0}
        for entry in entries:
            sums[entry["category"]] += to_units(float(entry["credited"]))
        professional = sums["professional"] + result.carried_in
        return {  # exactly the front-end contract
            "public": to_hours(sums["public"]),
            "professional": to_hours(professional),
            "elective": to_hours(sums["elective"]),
            "total": to_hours(sums["public"] + professional + sums["elective"]),
            "carried_in": to_hours(result.carried_in),
            "entries": [entry_view(entry) for entry in entries],
        }

    async def verification_of(self, principal: Principal, ce_number: str, year: int) -> dict[str, Any]:
        teacher = await self.teacher(principal, ce_number)
        result = await self.verification.for_teacher(ce_number, year)
        return {
            "ce_number": ce_number,
            "name": teacher.get("name"),
            "school_id": teacher.get("school_id"),
            "school_name": teacher.get("school_name"),
            **verification_view(result),
        }

    async def verification_report(self, principal: Principal, ce_number: str, year: int) -> bytes:
        """The teacher's annual verification report (PDF, Chinese) with every ledger entry of the year."""
        teacher = await self.teacher(principal, ce_number)
        verification = await self.verification_of(principal, ce_number, year)
        entries = [entry_view(e) for e in await self.bank.entries(ce_number, year, year)]
        rules = await self.rules.for_year(year)
        labels = {name: source.label for name, source in rules.sources.items()}
        return verification_pdf(teacher, verification, entries, labels)
