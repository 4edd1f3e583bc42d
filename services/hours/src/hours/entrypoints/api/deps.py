"""The hours API's dependency aliases (routers import these, never the composition root's functions);
getters are ``async`` (a plain ``def`` dependency runs in FastAPI's thread pool)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from hours.bootstrap import Container


async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def naive_utc(doc: Any) -> Any:
    """Datetimes may come back naive from the store: mark them UTC before they leave the API."""
    from datetime import UTC, datetime

    if isinstance(doc, dict):
        return {key: naive_utc(value) for key, value in doc.items()}
    if isinstance(doc, list):
        return [naive_utc(value) for value in doc]
    if isinstance(doc, datetime) and doc.tzinfo is None:
        return doc.replace(tzinfo=UTC)
    return doc
