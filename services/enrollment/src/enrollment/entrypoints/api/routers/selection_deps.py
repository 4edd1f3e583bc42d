"""Async dependencies for E2's routers (terms, catalogue, selection, ability).

FastAPI runs plain ``def`` dependencies in a thread pool; under a selection storm the two hops per
request (token check and container lookup) queue on the pool's 40 threads. These do the same work
on the event loop: the token check is the kit's own ``get_principal`` (CPU only, no I/O)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from enrollment.bootstrap import Container
from jijiao_kit.auth import Principal, get_principal


async def caller(request: Request) -> Principal:
    return await get_principal(request)


async def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


Caller = Annotated[Principal, Depends(caller)]
Services = Annotated[Container, Depends(container_of)]
