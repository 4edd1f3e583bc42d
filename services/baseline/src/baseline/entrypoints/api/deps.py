"""Annotated dependencies of the baseline API (async: no thread-pool hop per request)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from baseline.bootstrap import Container
from baseline.service_layer.zones import ZoneService


async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_zones(container: ContainerDep) -> ZoneService:
    return container.zones


ZonesDep = Annotated[ZoneService, Depends(get_zones)]
