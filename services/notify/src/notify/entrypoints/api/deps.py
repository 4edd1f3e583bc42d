"""The notify API's dependency aliases (routers import these, never the composition root's functions);
getters are ``async`` (a plain ``def`` dependency runs in FastAPI's thread pool)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from notify.bootstrap import Container


async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]
