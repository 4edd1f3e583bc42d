"""Annual and cycle verification, computed from the ledger (recomputable, same answer for the same
ledger); a run stores a snapshot per teacher and emits ``VerificationCompleted`` when it changed."""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from hours.adapters.repositories import Teachers
from hours.adapters.verifications import VerificationRepository
from hours.domain.rules import FIRST_YEAR, YearRules
from hours.domain.units import to_hours, to_units
from hours.domain.verification import Verification, YearSums, verify_chain
from hours.service_layer.access import require, verification_scope
from hours.service_layer.rules import RulesService
from jijiao_contracts import Actor
from jijiao_contracts.enums import Role
from jijiao_contracts.events.hours import PRODUCER, VerificationCompleted
from jijiao_kit.auth import Principal
from jijiao_kit.errors import InvalidInput, NotFound
from jijiao_kit.outbox import outbox_entry

Doc = dict[str, Any]
#: How many years back a carry-over chain is computed (a chain restarts at a year that did not verify).
LOOKBACK_YEARS = 10


def lookback_from(year: int) -> int:
    """The first year a chain ending in ``year`` looks at: ten years back, but not before the first year
    the bank has rules for (a chain for 2003 starts in 2000, not in 1993, which has no rules)."""
    return max(year - LOOKBACK_YEARS, FIRST_YEAR)


def verification_view(v: Verification) -> Doc:
    return {
        "year": v.year,
        "public": to_hours(v.public),
        "professional": to_hours(v.professional),
        "elective": to_hours(v.elective),
        "total": to_hours(v.total),
        "carried_in": to_hours(v.carried_in),
        "carried_out": to_hours(v.carried_out),
        "passed": v.passed,
        "requirement": {k: to_hours(u) for k, u in v.requirement.items()},
        "shortfall": {k: to_hours(u) for k, u in v.shortfall.items()},
    }


def sums_from_entries(entries: list[Doc]) -> dict[int, YearSums]:
    acc: dict[int, dict[str, int]] = defaultdict(lambda: {"public": 0, "professional": 0, "elective": 0})
    for entry in entries:
        acc[int(entry["year"])][entry["category"]] += to_units(float(entry["credited"]))
    return {year: YearSums(**values) for year, values in acc.items()}


class VerificationService:
    def __init__(self, store: VerificationRepository, teachers: Teachers, rules: RulesService) -> None:
        self.store = store
        self.teachers = teachers
        self.rules = rules

    async def run_in_scope(self, principal: Principal, year: int) -> Doc:
        """Annual verification of every teacher the admin covers."""
        return await self.run(year, **verification_scope(principal), by=principal.subject)

    async def school_export(self, principal: Principal, year: int, school_id: str) -> list[Doc]:
        """The school's verification rows, if the admin covers the school (an empty list when a district
        admin asks for a school of another district)."""
        scope = verification_scope(principal, school_id)
        return await self.school_rows(year, school_id=school_id, district=scope["district"])

    async def cycle_in_scope(self, principal: Principal, cycle_id: str, school_id: str | None = None) -> Doc:
        return await self.cycle_rows(cycle_id, **verification_scope(principal, school_id))

    async def configure_cycle(
        self, principal: Principal, cycle_id: str, name: str, start_year: int, end_year: int
    ) -> Doc:
        require(principal, Role.CITY_ADMIN)
        return await self.set_cycle(cycle_id, name, start_year, end_year, principal.subject)

    async def _rules_range(self, first: int, last: int) -> dict[int, YearRules]:
        return {year: await self.rules.for_year(year) for year in range(first, last + 1)}

    async def chain_for(self, ce_number: str, year: int) -> dict[int, Verification]:
        sums = sums_from_entries(await self.store.credited_of(ce_number, lookback_from(year), year))
        rules = await self._rules_range(lookback_from(year), year)
        return verify_chain(sums, rules.__getitem__, year)

    async def for_teacher(self, ce_number: str, year: int) -> Verification:
        return (await self.chain_for(ce_number, year))[year]

    async def _all_sums(self, first: int, last: int) -> dict[str, dict[int, YearSums]]:
        """Credited sums per teacher, year and category for a range of years, from one projected scan of
        the ledger (the embedded store cannot ``$group`` on a compound key, so the sums are made here)."""
        acc: dict[str, dict[int, dict[str, int]]] = defaultdict(
            lambda: defaultdict(lambda: {"public": 0, "professional": 0, "elective": 0})
        )
        async for row in self.store.credited_all(first, last):
            acc[row["ce_number"]][int(row["year"])][row["category"]] += to_units(float(row["credited"]))
        return {ce: {year: YearSums(**v) for year, v in years.items()} for ce, years in acc.items()}

    async def run(
        self, year: int, *, school_id: str | None = None, district: str | None = None, by: str = "system"
    ) -> Doc:
        """Verify every teacher in scope for ``year``; store snapshots, emit events for changed results."""
        started = time.perf_counter()
        teachers = await self.teachers.in_scope(school_id=school_id, district=district)
        all_sums = await self._all_sums(lookback_from(year), year)
        rules = await self._rules_range(lookback_from(year), year)
        previous = await self.store.fingerprints(year)
        snapshots: list[tuple[str, Doc, list[Doc]]] = []
        passed = 0
        now = datetime.now(UTC)
        for teacher in teachers:
            ce = teacher["_id"]
            result = verify_chain(all_sums.get(ce, {}), rules.__getitem__, year)[year]
            passed += result.passed
            view = verification_view(result)
            fingerprint = hashlib.sha256(json.dumps(view, sort_keys=True).encode()).hexdigest()[:24]
            snapshot_id = f"{ce}:{year}"
            if previous.get(snapshot_id) == fingerprint:
                continue
            event = VerificationCompleted(
                ce_number=ce,
                year=year,
                public=view["public"],
                professional=view["professional"],
                elective=view["elective"],
                total=view["total"],
                passed=result.passed,
                carried_out=view["carried_out"],
            )
            fields = {
                "ce_number": ce,
                "year": year,
                "school_id": teacher.get("school_id"),
                "district": teacher.get("district"),
                "name": teacher.get("name"),
                "result": view,
                "fingerprint": fingerprint,
                "verified_at": now.isoformat(),
            }
            snapshots.append((snapshot_id, fields, [outbox_entry(event, producer=PRODUCER, actor=Actor(subject=by))]))
        await self.store.store_snapshots(snapshots)
        return {
            "year": year,
            "teachers": len(teachers),
            "passed": passed,
            "changed": len(snapshots),
            "seconds": round(time.perf_counter() - started, 3),
        }

    async def school_rows(self, year: int, *, school_id: str | None = None, district: str | None = None) -> list[Doc]:
        teachers = await self.teachers.in_scope(school_id=school_id, district=district)
        all_sums = await self._all_sums(lookback_from(year), year)
        rules = await self._rules_range(lookback_from(year), year)
        rows = []
        for teacher in teachers:
            result = verify_chain(all_sums.get(teacher["_id"], {}), rules.__getitem__, year)[year]
            rows.append(
                {
                    "ce_number": teacher["_id"],
                    "name": teacher.get("name"),
                    "school_name": teacher.get("school_name"),
                    **verification_view(result),
                }
            )
        return rows

    async def set_cycle(self, cycle_id: str, name: str, start_year: int, end_year: int, by: str) -> Doc:
        if end_year < start_year or end_year - start_year > 9:
            raise InvalidInput("A cycle spans 1 to 10 years.", code="invalid_cycle", title="周期设置无效")
        doc = {
            "_id": cycle_id,
            "name": name,
            "start_year": start_year,
            "end_year": end_year,
            "updated_by": by,
            "updated_at": datetime.now(UTC),
        }
        await self.store.put_cycle(doc)
        return doc

    async def cycle(self, cycle_id: str) -> Doc:
        doc = await self.store.cycle(cycle_id)
        if doc is None:
            raise NotFound(f"No cycle {cycle_id}.", code="cycle_not_found", title="找不到该验证周期")
        return doc

    async def cycle_rows(self, cycle_id: str, *, school_id: str | None = None, district: str | None = None) -> Doc:
        """周期验证: per teacher and year of the cycle: CE number, name, school, year, total, public,
        professional, elective (with carried-in hours counted as professional), plus the cycle's sums."""
        cycle = await self.cycle(cycle_id)
        first, last = int(cycle["start_year"]), int(cycle["end_year"])
        teachers = await self.teachers.in_scope(school_id=school_id, district=district)
        all_sums = await self._all_sums(lookback_from(first), last)
        rules = await self._rules_range(lookback_from(first), last)
        rows, teachers_out = [], []
        for teacher in teachers:
            chain = verify_chain(all_sums.get(teacher["_id"], {}), rules.__getitem__, last, since=first)
            sums = {"total": 0.0, "public": 0.0, "professional": 0.0, "elective": 0.0}
            for year in range(first, last + 1):
                view = verification_view(chain[year])
                rows.append(
                    {
                        "ce_number": teacher["_id"],
                        "name": teacher.get("name"),
                        "school_name": teacher.get("school_name"),
                        "year": year,
                        "total": view["total"],
                        "public": view["public"],
                        "professional": view["professional"],
                        "elective": view["elective"],
                        "passed": view["passed"],
                    }
                )
                for key in sums:
                    sums[key] += view[key]
            teachers_out.append(
                {
                    "ce_number": teacher["_id"],
                    "name": teacher.get("name"),
                    "school_name": teacher.get("school_name"),
                    **{k: round(v, 2) for k, v in sums.items()},
                }
            )
        return {
            "cycle": {k: cycle[k] for k in ("name", "start_year", "end_year")} | {"id": cycle_id},
            "rows": rows,
            "teachers": teachers_out,
        }
