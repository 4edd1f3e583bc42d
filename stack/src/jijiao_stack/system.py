"""The whole system as real processes, configured once for ``make up`` and for end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from jijiao_stack.infra import Endpoint, ensure_running
from jijiao_stack.processes import (
    SERVICES,
    ProcessGroup,
    api_command,
    free_port,
    port_is_free,
    spawn_store,
    wait_ready,
    worker_command,
)

DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class SystemConfig:
    root: Path
    var_dir: Path
    name_prefix: str = "jijiao"
    ports: dict[str, int] = field(default_factory=lambda: dict(SERVICES))
    mongodb_url: str | None = None
    rabbitmq_url: str = DEFAULT_RABBITMQ_URL
    redis_url: str = DEFAULT_REDIS_URL
    store_port: int = 27017
    smtp_port: int = 1025
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_environment(cls, root: Path) -> SystemConfig:
        return cls(
            root=root,
            var_dir=root / "var",
            name_prefix=os.environ.get("NAME_PREFIX", "jijiao"),
            mongodb_url=os.environ.get("MONGODB_URL") or None,
            rabbitmq_url=os.environ.get("RABBITMQ_URL", DEFAULT_RABBITMQ_URL),
            redis_url=os.environ.get("REDIS_URL", DEFAULT_REDIS_URL),
        )


class System:
    def __init__(self, config: SystemConfig) -> None:
        self.config = config
        self.group = ProcessGroup(config.var_dir / "log")
        self.mongodb_url = config.mongodb_url

    @property
    def urls(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{port}" for name, port in self.config.ports.items()}

    def ensure_infrastructure(self) -> None:
        ensure_running(
            [
                Endpoint.from_url("rabbitmq", self.config.rabbitmq_url, 5672),
                Endpoint.from_url("redis", self.config.redis_url, 6379),
            ],
            str(self.config.root / "docker-compose.yml"),
        )

    def start_store(self) -> None:
        """Start nx-27017 unless MONGODB_URL names a store; its data stays under var/mongo."""
        if self.mongodb_url:
            return
        port = self.config.store_port if port_is_free(self.config.store_port) else free_port()
        self.mongodb_url = spawn_store(self.group, port, self.config.var_dir)

    @property
    def mail_dir(self) -> Path:
        return self.config.var_dir / "mail"

    def start_mail_catcher(self) -> None:
        """A local SMTP server keeping mail under var/mail, unless SMTP_HOST names a real one."""
        if os.environ.get("SMTP_HOST"):
            return
        if not port_is_free(self.config.smtp_port):
            self.config.smtp_port = free_port()
        command = [sys.executable, "-m", "jijiao_stack.mailcatcher", "--port", str(self.config.smtp_port)]
        self.group.spawn("mailcatcher", [*command, "--dir", str(self.mail_dir)], dict(os.environ))
        endpoint = Endpoint("smtp", "127.0.0.1", self.config.smtp_port)
        deadline = time.monotonic() + 15
        while not endpoint.answers():
            if time.monotonic() > deadline or self.group.dead():
                raise RuntimeError(f"mail catcher did not start (see {self.group.log_dir})")
            time.sleep(0.1)

    def service_env(self, service: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "MONGODB_URL": self.mongodb_url or "",
                "RABBITMQ_URL": self.config.rabbitmq_url,
                "REDIS_URL": self.config.redis_url,
                "NAME_PREFIX": self.config.name_prefix,
                "HTTP_PORT": str(self.config.ports[service]),
                "KEYS_DIR": str(self.config.var_dir / "keys"),
                "PYTHONUNBUFFERED": "1",
                "SMTP_HOST": os.environ.get("SMTP_HOST", "127.0.0.1"),
                "SMTP_PORT": os.environ.get("SMTP_PORT", str(self.config.smtp_port)),
                "WORKER_HEARTBEAT_FILE": str(self.config.var_dir / "run" / f"{service}-worker.heartbeat"),
            }
        )
        env.update(self.config.extra_env)
        return env

    def start_services(self) -> None:
        # Enrollment first: it creates the signing keys the others verify with.
        for service in SERVICES:
            env = self.service_env(service)
            self.group.spawn(f"{service}-api", api_command(service, self.config.ports[service]), env)
            self.group.spawn(f"{service}-worker", worker_command(service), env)
            if service == "enrollment":
                keys = self.config.var_dir / "keys" / "auth_public.pem"
                deadline = time.monotonic() + 30
                while not keys.exists() and time.monotonic() < deadline:
                    time.sleep(0.1)

    def wait_ready(self, seconds: float = 90) -> None:
        wait_ready(self.urls, seconds, self.group)

    def seed_demo(self) -> None:
        for service in (
            "enrollment",
            "baseline",
            "studio",
        ):  # baseline: the programme's demo year; studio: a studio with members and activities
            subprocess.run(
                [sys.executable, "-m", f"{service}.entrypoints.seed_demo"],
                env=self.service_env(service),
                check=True,
                capture_output=True,
            )
        # The research community's demo workshop (studio waits for the teachers to reach its directory);
        # demo data the system runs without: a failure here does not stop the start.
        try:
            subprocess.run(
                [sys.executable, "-m", "studio.entrypoints.seed_community"],
                env=self.service_env("studio"),
                check=False,
                capture_output=True,
                timeout=120,
            )
        except subprocess.TimeoutExpired:
            pass

    def start(self, *, seed: bool = True, ready_seconds: float = 90) -> None:
        self.ensure_infrastructure()
        self.start_store()
        self.start_mail_catcher()
        self.start_services()
        self.wait_ready(ready_seconds)
        if seed:
            self.seed_demo()

    def stop(self) -> None:
        self.group.stop()
