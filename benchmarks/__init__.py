"""Benchmarks: not tests. Each module has ``async def main() -> dict`` and writes var/bench/<name>.json."""
