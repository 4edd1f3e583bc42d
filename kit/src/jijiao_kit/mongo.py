"""MongoDB access through PyMongo's async API (the successor of Motor)."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]


def create_client(url: str, *, timeout_ms: int = 5000, server_selection_ms: int = 3000) -> AsyncMongoClient[Document]:
    """``server_selection_ms``: how long an operation waits for a reachable store before it fails (a
    request then answers 503 within a few seconds instead of hanging on an outage)."""
    return AsyncMongoClient(
        url,
        serverSelectionTimeoutMS=server_selection_ms,
        connectTimeoutMS=timeout_ms,
        tz_aware=True,
        uuidRepresentation="standard",
    )


def database(client: AsyncMongoClient[Document], name: str) -> AsyncDatabase[Document]:
    return client[name]
