"""ASGI entry point: ``uvicorn baseline.entrypoints.api.app:app``."""

from baseline.bootstrap import create_api

app = create_api()
