"""Annotated dependencies of the enrollment API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from enrollment.bootstrap import Container
from enrollment.service_layer.auth import AuthService
from enrollment.service_layer.roster import RosterService


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
