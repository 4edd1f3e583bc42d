"""ASGI entry point: ``uvicorn hours.entrypoints.api.app:app``."""

from hours.bootstrap import create_api

app = create_api()
