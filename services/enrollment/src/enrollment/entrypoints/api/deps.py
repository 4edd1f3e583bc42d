"""The enrollment API's dependency aliases (routers import these, never the composition root's functions).

Every getter is ``async`` (``jijiao_kit.deps``): FastAPI runs a plain ``def`` dependency in its thread
pool, and under a selection storm those hops queue on the pool's 40 threads. Getters are named here so
tests can override them. The caller is the kit's ``CurrentPrincipal`` (``ExportPrincipal`` for step-up
exports)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from enrollment.bootstrap import Container
from enrollment.service_layer.accounts import AccountService
from enrollment.service_layer.auth import AuthService
from enrollment.service_layer.programme_accounts import ProgrammeAccounts
from enrollment.service_layer.roster import RosterService
from enrollment.service_layer.teacher_import import TeacherImport
from enrollment.service_layer.transfers import TransferService
from jijiao_kit.deps import container_getter, part

get_container = container_getter(Container)
ContainerDep = Annotated[Container, Depends(get_container)]

get_roster = part(get_container, lambda c: c.roster)
get_auth = part(get_container, lambda c: c.auth)
get_transfers = part(get_container, lambda c: c.transfers)
get_accounts = part(get_container, lambda c: c.account_service)
get_programme_accounts = part(get_container, lambda c: c.programme_accounts)
get_import = part(get_container, lambda c: TeacherImport(c.roster))

RosterDep = Annotated[RosterService, Depends(get_roster)]
AuthDep = Annotated[AuthService, Depends(get_auth)]
TransfersDep = Annotated[TransferService, Depends(get_transfers)]
AccountsDep = Annotated[AccountService, Depends(get_accounts)]
ImportDep = Annotated[TeacherImport, Depends(get_import)]
ProgrammeAccountsDep = Annotated[ProgrammeAccounts, Depends(get_programme_accounts)]
