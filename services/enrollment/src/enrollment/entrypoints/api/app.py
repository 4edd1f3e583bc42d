"""ASGI entry point: ``uvicorn enrollment.entrypoints.api.app:app``."""

from enrollment.bootstrap import create_api

app = create_api()
