"""Shared set-up of the studio integration tests: a container on a fixed clock, teachers, a studio and a
recruitment whose windows the tests walk through by moving the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jijiao_kit.auth import Principal
from jijiao_kit.clock import FixedClock
from studio.bootstrap import Container, build
from studio.domain.recruitment import ApplicantRole
from studio.domain.studios import StudioType
from studio.service_layer.recruitment import NewApplication, NewRecruitment
from studio.service_layer.studios import NewStudio
from studio.settings import Settings

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
DAY = timedelta(days=1)
CITY = Principal(subject="city", roles=frozenset({"city_admin"}))
FORM = {"stage": "小学", "subject": "语文", "title": "一级教师", "age": 35, "teaching_years": 12}


def teacher(ce: str) -> Principal:
    return Principal(subject=f"t{ce}", roles=frozenset({"teacher"}), scopes={"ce_number": ce})


def at_round(k: int) -> datetime:
    """Inside the review window of round ``k`` (0 = the application window)."""
    return T0 + DAY * (2 * k) + timedelta(hours=1)


@dataclass
class World:
    container: Container
    clock: FixedClock
    recruitment_id: str

    async def studio(
        self, host: str, studio_type: StudioType = StudioType.TEACHER, name: str | None = None, **kw: Any
    ) -> str:
        await self.container.directory.record(
            host, {"name": f"主持人{host}", "school_id": "s1", "school_name": "一小", "district": "天河区"}, T0
        )
        new = NewStudio(
            name=name or f"{host}工作室",
            studio_type=studio_type,
            host_ce_number=host,
            cycle_start_year=2026,
            cycle_years=kw.pop("cycle_years", 3),
            stage="小学",
            subject="语文",
            **kw,
        )
        doc = await self.container.studios.found(CITY, new)
        return str(doc["_id"])

    async def apply(
        self,
        ce: str,
        preferences: list[str],
        role: ApplicantRole = ApplicantRole.MEMBER,
        recruitment_id: str | None = None,
    ) -> str:
        self.clock.set(at_round(0))
        new = NewApplication(role=role, preferences=preferences, form=FORM)
        doc = await self.container.recruitment.apply(teacher(ce), recruitment_id or self.recruitment_id, new)
        return str(doc["_id"])


async def open_recruitment(container: Container, start: datetime = T0) -> str:
    windows = tuple((start + DAY * (2 * k), start + DAY * (2 * k + 1)) for k in range(4))
    new = NewRecruitment(cycle_start_year=2026, apply=windows[0], rounds=(windows[1], windows[2], windows[3]))
    doc = await container.recruitment.open(CITY, new)
    return str(doc["_id"])


async def world(settings_env: dict[str, Any]) -> World:
    clock = FixedClock(T0)
    import tempfile

    files = Path(tempfile.mkdtemp(prefix="studio-files-"))
    container = build(Settings(**settings_env, files_dir=files, max_upload_bytes=200_000), clock=clock)
    from studio.adapters import mongo

    await mongo.ensure_indexes(container.infra.db)
    return World(container, clock, await open_recruitment(container))
