from __future__ import annotations

from jijiao_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "notify"
    http_port: int = 8004
    #: ``sink`` stores SMS in the development sink (listed by the API); ``http`` calls the gateway.
    sms_backend: str = "sink"
    sms_signature: str = "广州继教网"
