"""FastAPI dependency getters of a service's API: its composition root's container and the parts routes
use (a service layer object, or one built from the container per request).

Each service's ``entrypoints/api/deps.py`` names one getter per part at module level, so a test can
still replace it (``app.dependency_overrides[deps.get_studios] = ...``)::

    get_container = container_getter(Container)
    ContainerDep = Annotated[Container, Depends(get_container)]
    get_studios = part(get_container, lambda c: c.studios)
    StudiosDep = Annotated[StudioService, Depends(get_studios)]

Getters are ``async``: FastAPI runs a plain ``def`` dependency in its thread pool, and under a request
storm those hops queue on the pool's 40 threads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from fastapi import Depends, Request

C = TypeVar("C")
T = TypeVar("T")


def container_getter(kind: type[C]) -> Callable[[Request], Awaitable[C]]:
    """The dependency answering the container ``create_app`` put on ``app.state.container``."""

    async def get_container(request: Request) -> C:
        return cast(C, request.app.state.container)

    return get_container


def part(get_container: Callable[..., Awaitable[C]], read: Callable[[C], T]) -> Callable[..., Awaitable[T]]:
    """The dependency answering ``read(container)``; the container comes from ``get_container`` (so an
    override of it reaches every part)."""

    async def get_part(container: Any = Depends(get_container)) -> T:
        return read(cast(C, container))

    return get_part
