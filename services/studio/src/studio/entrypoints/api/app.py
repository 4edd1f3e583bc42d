"""ASGI entry point: ``uvicorn studio.entrypoints.api.app:app``."""

from studio.bootstrap import create_api

app = create_api()
