"""The studio service's own copy of enrollment's teachers (the kit's teacher directory; never enrollment's
database): profile, school and status, each kept current from enrollment's roster events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from jijiao_kit import projections
from studio.adapters.mongo import DIRECTORY


class TeacherDirectory(projections.TeacherDirectory):
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        super().__init__(db[DIRECTORY])

    async def get(self, ce_number: str) -> dict[str, Any] | None:
        """A teacher the directory knows by name and school (a transfer may arrive before the registration)."""
        return await self.registered(ce_number)

    async def district_of_school(self, school_id: str) -> str | None:
        """The district of a school as the directory's teachers of that school place it (None: the
        directory knows no teacher of that school)."""
        doc = await self.collection.find_one({"school_id": school_id}, {"district": 1})
        district = doc.get("district") if doc else None
        return str(district) if district else None

    async def record(self, ce_number: str, fields: dict[str, Any], as_of: datetime) -> None:
        """Seed a teacher's copy from plain fields (demo data, tests): ``upsert``, part by part."""
        await self.upsert(ce_number, fields, as_of)
