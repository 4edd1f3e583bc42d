"""The notify API's dependency aliases (routers import these, never the composition root's functions);
getters are ``async`` (a plain ``def`` dependency runs in FastAPI's thread pool)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from jijiao_kit.deps import container_getter
from notify.bootstrap import Container

get_container = container_getter(Container)
ContainerDep = Annotated[Container, Depends(get_container)]
