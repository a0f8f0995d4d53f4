"""Garbage-collection pauses in a live router, with and without the start-up heap frozen.

Starts the embedded default (catalog, shipped predictor, replay upstream) under uvicorn in
this process, sends N ``auto`` chat completions at concurrency C over loopback, and times
every cyclic collection with ``gc.callbacks``. ``--unfreeze`` undoes the app's
``gc.freeze()`` first (the behaviour before it was added). Both variants run as separate
processes, one after the other, and print side by side:

    .venv/bin/python bench/gc_pauses.py [--requests 1500] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _load(url: str, requests: int, concurrency: int) -> float:
    import httpx

    async def main() -> None:
        limit = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:

            async def one(i: int) -> None:
                async with limit:
                    body = {
                        "model": "auto",
                        "messages": [{"role": "user", "content": f"Question {i}: capital of {i}?"}],
                    }
                    response = await client.post("/v1/chat/completions", json=body)
                    response.raise_for_status()

            await asyncio.gather(*(one(i) for i in range(requests)))

    started = time.perf_counter()
    asyncio.run(main())
    return time.perf_counter() - started


def measure(requests: int, concurrency: int, unfreeze: bool) -> dict[str, object]:
    """One variant in this process: pauses per generation and the run's wall time."""
    from router.process import prepare_environment

    prepare_environment(compute_threads=1)
    from router.app import create_app
    from router.settings import Settings
    from tests.router.servers import live_server

    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    started = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses[info["generation"]].append(time.perf_counter() - started[0])

    with live_server(create_app(Settings())) as url:
        if unfreeze:
            gc.unfreeze()
        tracked = len(gc.get_objects())
        gc.callbacks.append(callback)
        wall = _load(url, requests, concurrency)
        gc.callbacks.remove(callback)
    return {
        "tracked_objects": tracked,
        "frozen_objects": gc.get_freeze_count(),
        "wall_s": wall,
        "pauses": {g: (len(p), max(p, default=0.0), sum(p)) for g, p in pauses.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--variant", choices=["frozen", "unfrozen"], default=None)
    args = parser.parse_args()
    if args.variant:
        result = measure(args.requests, args.concurrency, args.variant == "unfrozen")
        print(json.dumps(result))
        return
    for variant in ("unfrozen", "frozen"):
        sizes = ["--requests", str(args.requests), "--concurrency", str(args.concurrency)]
        command = [sys.executable, __file__, "--variant", variant, *sizes]
        out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{variant:>8}: tracked {result['tracked_objects']:>7}, "
              f"frozen {result['frozen_objects']:>7}, {args.requests} requests in "
              f"{result['wall_s']:.1f} s")  # fmt: skip
        for generation, (count, longest, total) in result["pauses"].items():
            print(f"          gen{generation}: {count:>4} collections, longest "
                  f"{longest * 1e3:6.1f} ms, total {total * 1e3:6.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
