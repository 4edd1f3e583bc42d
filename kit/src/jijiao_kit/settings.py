"""Settings base: every service reads its configuration from the environment through one object."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from jijiao_contracts import DELIVERY_LIMIT, Topology


class ServiceSettings(BaseSettings):
    """Common settings. Subclasses set ``service_name`` and ``http_port`` defaults and add their own."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    service_name: str = "service"
    http_host: str = "127.0.0.1"
    http_port: int = 8000

    mongodb_url: str = "mongodb://127.0.0.1:27017"
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    redis_url: str = "redis://127.0.0.1:6379/0"
    #: How long a store operation waits for a reachable store before it fails (an API request then
    #: answers 503 with Retry-After): short, so a store outage is answered within a few seconds.
    mongodb_server_selection_ms: int = Field(default=3000, ge=100)

    #: Prefix of database names, exchange/queue names and Redis keys; tests use a unique one per run.
    name_prefix: str = "jijiao"

    #: Folder holding the signing keys when they are not given by environment (git-ignored).
    keys_dir: Path = Path("var/keys")
    jwt_public_key: str | None = Field(default=None, description="PEM; overrides the key file")
    step_up_public_key: str | None = Field(default=None, description="PEM of notify's step-up key")
    #: Sensitive exports demand a step-up token from notify (DESIGN.md rule 7).
    step_up_required: bool = True
    jwt_issuer: str = "jijiao-enrollment"
    jwt_audience: str = "jijiao"

    delivery_limit: int = DELIVERY_LIMIT
    prefetch_count: int = 32
    relay_interval_seconds: float = 0.2
    relay_batch_size: int = 200

    #: A worker's whole shutdown (stop consuming, drain, release) ends within this many seconds:
    #: below Kubernetes' default grace period of 30 s, after which the pod is killed.
    shutdown_deadline_seconds: float = Field(default=20.0, gt=3, lt=30)

    #: The worker touches this file every few seconds while connected (container liveness probe).
    worker_heartbeat_file: str = "/tmp/jijiao-worker-heartbeat"
    #: Each worker renews a Redis heartbeat this often, kept this long: a claim (inbox, notice)
    #: whose holder's heartbeat is gone is taken over at once (``jijiao_kit.liveness``).
    liveness_beat_seconds: float = Field(default=2.0, gt=0)
    liveness_ttl_seconds: float = Field(default=8.0, gt=0)

    log_level: str = "INFO"
    log_json: bool = True

    @property
    def database_name(self) -> str:
        return f"{self.name_prefix}_{self.service_name}"

    @property
    def topology(self) -> Topology:
        return Topology(prefix=self.name_prefix)

    @property
    def redis_prefix(self) -> str:
        return f"{self.name_prefix}:{self.service_name}:"
