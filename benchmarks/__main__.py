"""``make bench`` / ``python -m benchmarks [name ...]``: run benchmarks, write JSON, print summaries."""

from __future__ import annotations

import asyncio
import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path

import benchmarks

RESULTS = Path("var/bench")


def discover() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))


def main(argv: list[str]) -> int:
    names = [f"bench_{n.removeprefix('bench_')}" for n in argv] or discover()
    RESULTS.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        started = time.monotonic()
        print(f"=== {name}", flush=True)
        try:
            result = asyncio.run(module.main())
        except Exception as exc:
            failed += 1
            print(f"    failed: {exc!r}", flush=True)
            continue
        result.setdefault("benchmark", name)
        result.setdefault("wall_seconds", round(time.monotonic() - started, 2))
        path = RESULTS / f"{name.removeprefix('bench_')}.json"
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
        summary = result.get("summary") or {k: v for k, v in result.items() if not isinstance(v, dict | list)}
        for key, value in summary.items():
            print(f"    {key}: {value}")
        print(f"    -> {path}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
