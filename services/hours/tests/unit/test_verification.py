"""Annual verification and carry-over across two and three years."""

from __future__ import annotations

from hours.domain.rules import default_rules
from hours.domain.units import to_units as u
from hours.domain.verification import YearSums, verify_chain, verify_year

R = default_rules


def sums(public: float, professional: float, elective: float) -> YearSums:
    return YearSums(u(public), u(professional), u(elective))


def test_a_year_passes_exactly_at_the_requirement_and_fails_one_hour_below() -> None:
    ok = verify_year(sums(24, 42, 6), R(2026), 0)
    assert ok.passed and ok.total == u(72) and ok.carried_out == 0
    short = verify_year(sums(23, 42, 6), R(2026), 0)
    assert not short.passed and short.shortfall == {"public": u(1), "total": u(1)}


def test_professional_above_42_carries_into_the_next_year_only_if_verified() -> None:
    passed = verify_year(sums(24, 50, 0), R(2026), 0)
    assert passed.passed and passed.carried_out == u(8)
    exactly = verify_year(sums(24, 48, 0), R(2026), 0)
    assert exactly.carried_out == u(6)
    failed = verify_year(sums(10, 60, 0), R(2026), 0)
    assert not failed.passed and failed.carried_out == 0


def test_public_and_elective_never_carry() -> None:
    result = verify_year(sums(60, 42, 30), R(2026), 0)
    assert result.passed and result.carried_out == 0


def test_carry_over_across_two_years_is_used_first() -> None:
    chain = verify_chain({2025: sums(24, 52, 0), 2026: sums(24, 40, 0)}, R, 2026)
    assert chain[2025].carried_out == u(10)
    second = chain[2026]
    assert second.carried_in == u(10) and second.professional == u(50) and second.passed
    # 10 carried hours are used first: 32 own hours complete the 42, 8 own hours carry on
    assert second.carried_out == u(8)


def test_carried_hours_are_valid_one_year_only_across_three_years() -> None:
    chain = verify_chain({2024: sums(24, 100, 0), 2025: sums(24, 0, 48), 2026: sums(24, 42, 6)}, R, 2026)
    assert chain[2024].carried_out == u(58)
    assert chain[2025].carried_in == u(58) and chain[2025].passed
    assert chain[2025].carried_out == 0  # unused carried hours expire, they never carry twice
    assert chain[2026].carried_in == 0 and chain[2026].passed


def test_three_year_chain_breaks_when_a_year_fails() -> None:
    chain = verify_chain({2024: sums(24, 60, 0), 2025: sums(0, 50, 0), 2026: sums(24, 50, 0)}, R, 2026)
    assert chain[2025].carried_in == u(18) and not chain[2025].passed and chain[2025].carried_out == 0
    assert chain[2026].carried_in == 0 and chain[2026].carried_out == u(8)


def test_verification_is_recomputable_with_the_same_answer() -> None:
    years = {2024: sums(24, 60, 0), 2025: sums(24, 45, 3)}
    assert verify_chain(years, R, 2026) == verify_chain(dict(reversed(list(years.items()))), R, 2026)


def test_threshold_and_requirement_are_data() -> None:
    rules = R(2026)
    rules.carry_over_threshold = 50
    rules.requirement.total = 60
    result = verify_year(sums(10, 55, 0), rules, 0)
    assert result.passed is False  # public 24 still required
    rules.requirement.public = 0
    assert verify_year(sums(10, 55, 0), rules, 0).carried_out == u(5)
