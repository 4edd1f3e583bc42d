"""``python -m jijiao_stack up [--detach]`` / ``down``: the run command behind ``make up``."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

from jijiao_stack.processes import stop_pids
from jijiao_stack.system import System, SystemConfig

ROOT = Path.cwd()
STATE = ROOT / "var" / "run" / "stack.json"


def up(detach: bool) -> int:
    if STATE.exists():
        print(f"[stack] already running (see {STATE}); run 'make down' first", file=sys.stderr)
        return 1
    system = System(SystemConfig.from_environment(ROOT))
    started = time.monotonic()
    try:
        system.start()
    except BaseException as exc:
        system.stop()
        print(f"[stack] start failed: {exc}", file=sys.stderr)
        return 1
    STATE.parent.mkdir(parents=True, exist_ok=True)
    STATE.write_text(json.dumps({"pids": system.group.pids(), "mongodb_url": system.mongodb_url}, indent=2))
    print(f"[stack] all five services ready in {time.monotonic() - started:.1f}s")
    for name, url in system.urls.items():
        print(f"  {name:<11} {url}   docs: {url}/docs   openapi: {url}/openapi.json")
    print(f"  mongodb     {system.mongodb_url}")
    print(f"  smtp        127.0.0.1:{system.config.smtp_port}  (caught mail: {system.mail_dir})")
    print("  demo login  cityadmin / jijiao-demo   (README lists every demo login)")
    print(f"  logs        {system.group.log_dir}")
    if detach:
        return 0
    print("[stack] running in the foreground; Ctrl-C stops everything it started")
    stopping = False

    def handle(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    try:
        while not stopping:
            dead = system.group.dead()
            if dead:
                print(f"[stack] exited: {dead}; stopping", file=sys.stderr)
                break
            time.sleep(0.5)
    finally:
        system.stop()
        STATE.unlink(missing_ok=True)
        print("[stack] stopped")
    return 0


def down() -> int:
    if not STATE.exists():
        print("[stack] nothing to stop")
        return 0
    pids = json.loads(STATE.read_text())["pids"]
    stop_pids({name: int(pid) for name, pid in pids.items()})
    STATE.unlink(missing_ok=True)
    print(f"[stack] stopped {len(pids)} processes")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="jijiao_stack")
    sub = parser.add_subparsers(dest="command", required=True)
    up_parser = sub.add_parser("up")
    up_parser.add_argument("--detach", action="store_true")
    sub.add_parser("down")
    args = parser.parse_args()
    return up(args.detach) if args.command == "up" else down()


if __name__ == "__main__":
    sys.exit(main())
