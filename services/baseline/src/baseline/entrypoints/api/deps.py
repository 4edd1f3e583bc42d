"""Annotated dependencies of the baseline API (async: no thread-pool hop per request)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from baseline.bootstrap import Container
from baseline.service_layer.archives import ArchiveService
from baseline.service_layer.imports import ImportService
from baseline.service_layer.outcomes import OutcomeService
from baseline.service_layer.personnel import PersonnelService
from baseline.service_layer.programme import ProgrammeService
from baseline.service_layer.reference import ReferenceService
from baseline.service_layer.reflections import ReflectionService


async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_reference(container: ContainerDep) -> ReferenceService:
    return container.reference


async def get_programme(container: ContainerDep) -> ProgrammeService:
    return container.programme


async def get_personnel(container: ContainerDep) -> PersonnelService:
    return container.personnel


async def get_outcomes(container: ContainerDep) -> OutcomeService:
    return container.outcomes


async def get_reflections(container: ContainerDep) -> ReflectionService:
    return container.reflections


async def get_imports(container: ContainerDep) -> ImportService:
    return container.imports


async def get_archives(container: ContainerDep) -> ArchiveService:
    return container.archives


ReferenceDep = Annotated[ReferenceService, Depends(get_reference)]
ProgrammeDep = Annotated[ProgrammeService, Depends(get_programme)]
PersonnelDep = Annotated[PersonnelService, Depends(get_personnel)]
OutcomesDep = Annotated[OutcomeService, Depends(get_outcomes)]
ReflectionsDep = Annotated[ReflectionService, Depends(get_reflections)]
ImportsDep = Annotated[ImportService, Depends(get_imports)]
ArchivesDep = Annotated[ArchiveService, Depends(get_archives)]

#: An academic year in a path, e.g. ``2019-2020``.
YearPath = Annotated[str, Path(pattern=r"^\d{4}-\d{4}$", description="学年, e.g. 2019-2020")]
IdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")]
