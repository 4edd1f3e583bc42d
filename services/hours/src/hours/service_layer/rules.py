"""The per-year rules document: defaults until the city admin stores a year's own rules."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from pymongo.asynchronous.database import AsyncDatabase

from hours.adapters.mongo import RULES
from hours.domain.rules import YearRules, default_rules
from jijiao_kit.errors import InvalidInput


class RulesService:
    """Reads are cached for a few seconds per process (rules change rarely; crediting reads them often)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], *, cache_seconds: float = 5.0) -> None:
        self.collection = db[RULES]
        self.cache_seconds = cache_seconds
        self._cache: dict[int, tuple[float, YearRules]] = {}

    async def for_year(self, year: int) -> YearRules:
        cached = self._cache.get(year)
        if cached and time.monotonic() - cached[0] < self.cache_seconds:
            return cached[1]
        doc = await self.collection.find_one({"_id": year})
        rules = YearRules.model_validate(doc["rules"]) if doc else default_rules(year)
        self._cache[year] = (time.monotonic(), rules)
        return rules

    async def store(self, year: int, body: dict[str, Any], by: str) -> YearRules:
        try:
            rules = YearRules.model_validate({**body, "year": year})
        except ValidationError as exc:
            raise InvalidInput(
                f"Invalid rules: {exc.errors()[:3]}", code="invalid_rules", title="规则设置无效"
            ) from exc
        await self.collection.update_one(
            {"_id": year},
            {
                "$set": {
                    "rules": rules.model_dump(mode="json"),
                    "updated_by": by,
                    "updated_at": datetime.now(UTC).isoformat(),
                }
            },
            upsert=True,
        )
        self._cache.pop(year, None)
        return rules
