"""ASGI entry point: ``uvicorn notify.entrypoints.api.app:app``."""

from notify.bootstrap import create_api

app = create_api()
