"""The embedded store and the service processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

SERVICES = {"enrollment": 8001, "studio": 8002, "hours": 8003, "notify": 8004, "baseline": 8005}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class Started:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class ProcessGroup:
    """Processes started by one launcher; stopping it stops them and nothing else."""

    log_dir: Path
    started: list[Started] = field(default_factory=list)

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> Started:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        handle = log.open("ab")
        process = subprocess.Popen(
            args, env=env, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        handle.close()
        started = Started(name, process, log)
        self.started.append(started)
        return started

    def pids(self) -> dict[str, int]:
        return {item.name: item.process.pid for item in self.started}

    def dead(self) -> list[str]:
        return [item.name for item in self.started if item.process.poll() is not None]

    def stop(self, timeout: float = 15.0) -> None:
        stop_pids(self.pids(), timeout)
        self.started.clear()


def stop_pids(pids: dict[str, int], timeout: float = 15.0) -> None:
    """SIGTERM each process group, wait, then SIGKILL what is left."""
    for pid in pids.values():
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    for pid in pids.values():
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.1)
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def nx_command(port: int, data_dir: Path, log_file: Path, pid_file: Path) -> list[str]:
    executable = Path(sys.executable).with_name("nx-27017")
    return [
        str(executable),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--log-file",
        str(log_file),
        "--pid-file",
        str(pid_file),
    ]


def spawn_store(group: ProcessGroup, port: int, workdir: Path, seconds: float = 30) -> str:
    """Start nx-27017 on ``port`` with one SQLite file per database under ``workdir/mongo``; wait for it."""
    (workdir / "mongo").mkdir(parents=True, exist_ok=True)
    (workdir / "run").mkdir(parents=True, exist_ok=True)
    command = nx_command(
        port, workdir / "mongo", group.log_dir / "nx-27017.server.log", workdir / "run" / f"nx-{port}.pid"
    )
    group.spawn("nx-27017", command, dict(os.environ))
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return f"mongodb://127.0.0.1:{port}"
        except OSError:
            if time.monotonic() > deadline or group.dead():
                raise RuntimeError(f"nx-27017 did not start (see {group.log_dir})") from None
            time.sleep(0.1)


def api_command(service: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        f"{service}.entrypoints.api.app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--timeout-graceful-shutdown",
        "10",
    ]


def worker_command(service: str) -> list[str]:
    return [sys.executable, "-m", f"{service}.entrypoints.worker"]


def wait_ready(urls: dict[str, str], seconds: float, group: ProcessGroup | None = None) -> dict[str, str]:
    """Poll every ``/readyz`` until all answer 200; returns the last state of each."""
    deadline = time.monotonic() + seconds
    state = {name: "starting" for name in urls}
    with httpx.Client(timeout=3.0) as client:
        while time.monotonic() < deadline:
            for name, url in urls.items():
                if state[name] == "ready":
                    continue
                try:
                    response = client.get(f"{url}/readyz")
                    state[name] = "ready" if response.status_code == 200 else f"{response.status_code} {response.text}"
                except httpx.HTTPError as exc:
                    state[name] = type(exc).__name__
            if all(value == "ready" for value in state.values()):
                return state
            if group is not None and group.dead():
                raise RuntimeError(f"processes exited during start: {group.dead()} (see {group.log_dir})")
            time.sleep(0.3)
    raise TimeoutError(f"services not ready in {seconds}s: {state}")
