"""The hours API's dependency aliases (routers import these, never the composition root's functions);
getters are ``async`` (a plain ``def`` dependency runs in FastAPI's thread pool)."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends

from hours.bootstrap import Container
from jijiao_kit.deps import container_getter

get_container = container_getter(Container)
ContainerDep = Annotated[Container, Depends(get_container)]
T = TypeVar("T")


def naive_utc(doc: T) -> T:
    """Datetimes may come back naive from the store: mark them UTC before they leave the API."""
    from datetime import UTC, datetime

    converted: Any = doc
    if isinstance(doc, dict):
        converted = {key: naive_utc(value) for key, value in doc.items()}
    elif isinstance(doc, list):
        converted = [naive_utc(value) for value in doc]
    elif isinstance(doc, datetime) and doc.tzinfo is None:
        converted = doc.replace(tzinfo=UTC)
    return cast(T, converted)
