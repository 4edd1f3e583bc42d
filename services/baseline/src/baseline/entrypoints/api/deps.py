"""Annotated dependencies of the baseline API (``jijiao_kit.deps``: async getters, no thread-pool hop per
request; named here so tests can override them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from baseline.bootstrap import Container
from baseline.service_layer.archives import ArchiveService
from baseline.service_layer.imports import ImportService
from baseline.service_layer.outcomes import OutcomeService
from baseline.service_layer.personnel import PersonnelService
from baseline.service_layer.programme import ProgrammeService
from baseline.service_layer.reference import ReferenceService
from baseline.service_layer.reflections import ReflectionService
from jijiao_kit.deps import container_getter, part

get_container = container_getter(Container)
ContainerDep = Annotated[Container, Depends(get_container)]

get_reference = part(get_container, lambda c: c.reference)
get_programme = part(get_container, lambda c: c.programme)
get_personnel = part(get_container, lambda c: c.personnel)
get_outcomes = part(get_container, lambda c: c.outcomes)
get_reflections = part(get_container, lambda c: c.reflections)
get_imports = part(get_container, lambda c: c.imports)
get_archives = part(get_container, lambda c: c.archives)

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
