"""The enrollment API's dependency aliases (routers import these, never the composition root's functions).

Every getter is ``async``: FastAPI runs a plain ``def`` dependency in its thread pool, and under a
selection storm those hops queue on the pool's 40 threads. The caller is the kit's ``CurrentPrincipal``
(``ExportPrincipal`` for step-up exports)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from enrollment.bootstrap import Container
from enrollment.service_layer.accounts import AccountService
from enrollment.service_layer.auth import AuthService
from enrollment.service_layer.programme_accounts import ProgrammeAccounts
from enrollment.service_layer.roster import RosterService
from enrollment.service_layer.teacher_import import TeacherImport
from enrollment.service_layer.transfers import TransferService


async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_roster(container: ContainerDep) -> RosterService:
    return container.roster


async def get_auth(container: ContainerDep) -> AuthService:
    return container.auth


async def get_transfers(container: ContainerDep) -> TransferService:
    return container.transfers


async def get_accounts(container: ContainerDep) -> AccountService:
    return container.account_service


async def get_programme_accounts(container: ContainerDep) -> ProgrammeAccounts:
    return container.programme_accounts


async def get_import(container: ContainerDep) -> TeacherImport:
    return TeacherImport(container.roster)


RosterDep = Annotated[RosterService, Depends(get_roster)]
AuthDep = Annotated[AuthService, Depends(get_auth)]
TransfersDep = Annotated[TransferService, Depends(get_transfers)]
AccountsDep = Annotated[AccountService, Depends(get_accounts)]
ImportDep = Annotated[TeacherImport, Depends(get_import)]
ProgrammeAccountsDep = Annotated[ProgrammeAccounts, Depends(get_programme_accounts)]
