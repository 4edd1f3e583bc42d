from __future__ import annotations

from jijiao_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "hours"
    http_port: int = 8003
