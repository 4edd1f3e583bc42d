"""Annual verification (年度验证) and carry-over (结转), computed from the ledger's credited sums only,
so it can be recomputed at any time and gives the same answer for the same ledger.

Carry-over: when a year verifies, professional hours above the threshold (42) move to the next year,
valid for that one year and used first; public and elective hours never carry. Because carried hours
are used first, what exceeds the threshold in a year is the year's own hours (carried hours that are
not needed expire), so ``carried_out = max(0, min(own, carried_in + own - threshold))``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from hours.domain.rules import YearRules
from hours.domain.units import to_units


@dataclass(frozen=True)
class YearSums:
    """Credited units of one year, per category, without carried-in hours."""

    public: int = 0
    professional: int = 0
    elective: int = 0


@dataclass(frozen=True)
class Verification:
    year: int
    public: int
    professional: int  # includes carried_in
    elective: int
    carried_in: int
    carried_out: int
    passed: bool
    requirement: dict[str, int]
    shortfall: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.public + self.professional + self.elective


def verify_year(sums: YearSums, rules: YearRules, carried_in: int) -> Verification:
    req = rules.requirement
    requirement = {
        "total": to_units(req.total),
        "public": to_units(req.public),
        "professional": to_units(req.professional),
        "elective": to_units(req.elective),
    }
    professional = sums.professional + carried_in
    have = {
        "public": sums.public,
        "professional": professional,
        "elective": sums.elective,
        "total": sums.public + professional + sums.elective,
    }
    shortfall = {key: requirement[key] - have[key] for key in requirement if have[key] < requirement[key]}
    passed = not shortfall
    threshold = to_units(rules.carry_over_threshold)
    carried_out = max(0, min(sums.professional, carried_in + sums.professional - threshold)) if passed else 0
    return Verification(
        year=rules.year,
        public=sums.public,
        professional=professional,
        elective=sums.elective,
        carried_in=carried_in,
        carried_out=carried_out,
        passed=passed,
        requirement=requirement,
        shortfall=shortfall,
    )


def verify_chain(
    sums_by_year: Mapping[int, YearSums], rules_for: Callable[[int], YearRules], up_to: int, since: int | None = None
) -> dict[int, Verification]:
    """Verify every year from the first one with hours (or ``since``) up to ``up_to``, carrying over."""
    first = min([y for y in sums_by_year if y <= up_to] + [up_to if since is None else since])
    results: dict[int, Verification] = {}
    carried_in = 0
    for year in range(first, up_to + 1):
        result = verify_year(sums_by_year.get(year, YearSums()), rules_for(year), carried_in)
        results[year] = result
        carried_in = result.carried_out
    return results
