from __future__ import annotations

from jijiao_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "baseline"
    http_port: int = 8005
