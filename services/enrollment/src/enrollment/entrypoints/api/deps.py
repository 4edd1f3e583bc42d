"""Annotated dependencies of the enrollment API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from enrollment.bootstrap import Container
from enrollment.service_layer.accounts import AccountService
from enrollment.service_layer.auth import AuthService
from enrollment.service_layer.roster import RosterService
from enrollment.service_layer.teacher_import import TeacherImport
from enrollment.service_layer.transfers import TransferService


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def get_roster(container: ContainerDep) -> RosterService:
    return container.roster


def get_auth(container: ContainerDep) -> AuthService:
    return container.auth


RosterDep = Annotated[RosterService, Depends(get_roster)]
AuthDep = Annotated[AuthService, Depends(get_auth)]


# E1: transfers, admin accounts, teacher import
def get_transfers(container: ContainerDep) -> TransferService:
    return container.transfers


def get_accounts(container: ContainerDep) -> AccountService:
    return container.account_service


def get_import(container: ContainerDep) -> TeacherImport:
    return TeacherImport(container.roster)


TransfersDep = Annotated[TransferService, Depends(get_transfers)]
AccountsDep = Annotated[AccountService, Depends(get_accounts)]
ImportDep = Annotated[TeacherImport, Depends(get_import)]
