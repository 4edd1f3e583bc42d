"""Composition root of baseline: ``build(settings) -> Container`` and nothing else (the API and the
worker are built from a container in ``entrypoints``)."""

from __future__ import annotations

from dataclasses import dataclass

from baseline.adapters import mongo
from baseline.adapters.directory import TeacherDirectory
from baseline.adapters.repositories import (
    BatchRepository,
    DemandRepository,
    OutcomeRepository,
    QuotaRepository,
    ReferenceRepository,
    ReflectionRepository,
    StageRepository,
)
from baseline.service_layer.archives import ArchiveService
from baseline.service_layer.imports import ImportService
from baseline.service_layer.outcomes import OutcomeService
from baseline.service_layer.personnel import PersonnelService
from baseline.service_layer.programme import ProgrammeService
from baseline.service_layer.reference import ReferenceService
from baseline.service_layer.reflections import ReflectionService
from baseline.service_layer.repair import ReservationRepair
from baseline.settings import Settings
from jijiao_kit.auth import TokenVerifier, verifier_from_settings
from jijiao_kit.clock import Clock, SystemClock
from jijiao_kit.runtime import Infrastructure


@dataclass
class Container:
    settings: Settings
    infra: Infrastructure
    clock: Clock
    verifier: TokenVerifier
    directory: TeacherDirectory
    reference: ReferenceService
    programme: ProgrammeService
    repair: ReservationRepair
    personnel: PersonnelService
    outcomes: OutcomeService
    reflections: ReflectionService
    imports: ImportService
    archives: ArchiveService


def build(settings: Settings | None = None, *, clock: Clock | None = None) -> Container:
    settings = settings or Settings()
    infra = Infrastructure.from_settings(settings)
    clock = clock or SystemClock()
    db = infra.db
    references = ReferenceRepository(db)
    batches = BatchRepository(db)
    reference = ReferenceService(references, clock, batches)

    async def next_sequence(name: str) -> int:
        return await mongo.next_sequence(db, name)

    quotas, stages, demands = QuotaRepository(db), StageRepository(db), DemandRepository(db)
    programme = ProgrammeService(reference, references, quotas, stages, demands, batches, clock, next_sequence)
    personnel = PersonnelService(reference, batches, clock)
    outcome_repository = OutcomeRepository(db)
    reflection_repository = ReflectionRepository(db)
    return Container(
        settings=settings,
        infra=infra,
        clock=clock,
        verifier=verifier_from_settings(settings),
        directory=TeacherDirectory(db),
        reference=reference,
        programme=programme,
        repair=ReservationRepair(quotas, stages, demands, batches, clock, programme.release_rejected),
        personnel=personnel,
        outcomes=OutcomeService(personnel, batches, outcome_repository, clock),
        imports=ImportService(reference),
        archives=ArchiveService(reference, personnel, batches, reflection_repository, outcome_repository),
        reflections=ReflectionService(personnel, batches, reflection_repository, clock),
    )
