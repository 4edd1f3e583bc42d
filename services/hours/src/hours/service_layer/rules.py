"""The per-year rules document: defaults until the city admin stores a year's own rules."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from hours.adapters.rules import RulesRepository
from hours.domain.rules import Period, YearRules, default_rules
from hours.service_layer.access import require
from jijiao_contracts.enums import Role
from jijiao_kit.auth import Principal
from jijiao_kit.errors import InvalidInput


class RulesService:
    """Reads are cached for a few seconds per process (rules change rarely; crediting reads them often)."""

    def __init__(self, store: RulesRepository, *, cache_seconds: float = 5.0) -> None:
        self.repository = store
        self.cache_seconds = cache_seconds
        self._cache: dict[int, tuple[float, YearRules]] = {}

    async def for_year(self, year: int) -> YearRules:
        cached = self._cache.get(year)
        if cached and time.monotonic() - cached[0] < self.cache_seconds:
            return cached[1]
        stored = await self.repository.get(year)
        rules = YearRules.model_validate(stored) if stored is not None else default_rules(year)
        self._cache[year] = (time.monotonic(), rules)
        return rules

    async def store(self, year: int, body: dict[str, Any], by: str) -> YearRules:
        try:
            rules = YearRules.model_validate({**body, "year": year})
        except ValidationError as exc:
            raise InvalidInput(
                f"Invalid rules: {exc.errors()[:3]}", code="invalid_rules", title="规则设置无效"
            ) from exc
        await self.repository.put(year, rules.model_dump(mode="json"), by, datetime.now(UTC).isoformat())
        self._cache.pop(year, None)
        return rules

    async def replace(self, principal: Principal, year: int, body: dict[str, Any]) -> YearRules:
        """The city admin replaces the year's rules (omitted parts take their defaults)."""
        require(principal, Role.CITY_ADMIN)
        return await self.store(year, body, principal.subject)

    async def open_complaint_period(self, principal: Principal, year: int, period: Period) -> YearRules:
        require(principal, Role.CITY_ADMIN)
        data = (await self.for_year(year)).model_dump(mode="json")
        data["complaint_period"] = period.model_dump(mode="json")
        return await self.store(year, data, principal.subject)
