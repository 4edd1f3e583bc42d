"""RabbitMQ and Redis: check, start the local ones if installed, else docker compose, else say what
is missing."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from urllib.parse import urlparse

LOCAL_START = {
    "rabbitmq": ["rabbitmq-server", "-detached"],
    "redis": [
        "redis-server",
        "--daemonize",
        "yes",
        "--bind",
        "127.0.0.1",
        "-::1",
        "--port",
        "6379",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        "/var/lib/redis",
        "--logfile",
        "/var/log/redis/ci.log",
    ],
}


@dataclass(frozen=True)
class Endpoint:
    name: str
    host: str
    port: int

    @classmethod
    def from_url(cls, name: str, url: str, default_port: int) -> Endpoint:
        parsed = urlparse(url)
        return cls(name, parsed.hostname or "127.0.0.1", parsed.port or default_port)

    def answers(self, timeout: float = 1.0) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=timeout):
                return True
        except OSError:
            return False


def docker_engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def wait_until(predicate: object, seconds: float, step: float = 0.5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(step)
    return False


def ensure_running(endpoints: list[Endpoint], compose_file: str) -> None:
    """Make every endpoint answer or raise SystemExit naming what is missing."""
    for endpoint in endpoints:
        if endpoint.answers():
            continue
        command = LOCAL_START.get(endpoint.name)
        is_local = endpoint.host in ("127.0.0.1", "localhost", "::1")
        if command is not None and is_local and shutil.which(command[0]):
            print(f"[stack] {endpoint.name} is down; starting the local one: {command[0]}")
            subprocess.run(command, check=False, capture_output=True)
            if wait_until(endpoint.answers, 60):
                continue
        elif docker_engine_answers():
            print(f"[stack] {endpoint.name} is down; starting it with docker compose")
            subprocess.run(["docker", "compose", "-f", compose_file, "up", "-d", endpoint.name], check=False)
            if wait_until(endpoint.answers, 90):
                continue
        raise SystemExit(
            f"[stack] {endpoint.name} does not answer at {endpoint.host}:{endpoint.port} and could not be started: "
            f"install it (Debian: apt-get install {'rabbitmq-server' if endpoint.name == 'rabbitmq' else 'redis-server'}),"
            " run a Docker engine, or point the URL at a running one."
        )
