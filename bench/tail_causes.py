"""What the slowest requests overlapped: GC, request-log writes, runtime refits.

Starts the fixed upstream and, per checkout, a router (one worker, fresh data dir) with
``bench/tail_trace.py`` loaded, which times every request inside the server and every
piece of background work. wrk drives each router (real RouterBench prompts); the rounds
alternate the checkouts. Per run it prints wrk's p50/p99 and, per kind of background
work: how many ran and for how long, the share of all requests that overlapped one, the
share of the slowest 1 % that did, and the server-side median of requests with and
without an overlap (the difference is what one such overlap costs a request).

    .venv/bin/python bench/tail_causes.py [--checkout DIR ...] [--mode auto] [--concurrency 1]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from overhead_lib import (  # noqa: E402  (bench scripts run from a checkout)
    Processes,
    free_port,
    load_line,
    router_command,
    run_wrk,
    write_catalog,
    wrk_script,
)

BACKGROUND = ("gc", "log_write", "runtime_fit")


def traced_command(checkout: Path, port: int, catalog: Path) -> list[str]:
    """``paretoroute serve`` from ``checkout``, with this checkout's tracing module first."""
    command = router_command(port, catalog, None, checkout=checkout)
    paths = [str(checkout), str(ROOT / "bench")]
    command[2] = f"import sys; sys.path[:0] = {paths!r}; import tail_trace; " + command[2]
    return command


def overlapping(requests: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """For each request (start, end), whether any span overlaps it."""
    if len(spans) == 0:
        return np.zeros(len(requests), dtype=bool)
    starts, ends = spans[:, 0], spans[:, 1]
    return np.array([bool(((starts < end) & (ends > start)).any()) for start, end in requests])


def analyse(events: dict[str, list[list[float]]], window: tuple[float, float]) -> list[str]:
    """Markdown rows: one per kind of background work, for requests inside ``window``."""
    begin, end = window
    requests = np.array([r for r in events["request"] if r[0] >= begin and r[1] <= end])
    took = (requests[:, 1] - requests[:, 0]) * 1000.0
    slow = took >= np.percentile(took, 99)
    rows = [
        f"| all requests | {len(took)} | server span p50 {np.median(took):.2f}, p99 "
        f"{np.percentile(took, 99):.2f}, max {took.max():.2f} | | | | |"
    ]
    for kind in BACKGROUND:
        spans = np.array([e[:2] for e in events[kind] if e[1] >= begin and e[0] <= end])
        spans = spans.reshape(-1, 2)
        hit = overlapping(requests, spans)
        length = (spans[:, 1] - spans[:, 0]) * 1000.0 if len(spans) else np.zeros(1)
        with_ = f"{np.median(took[hit]):.2f}" if hit.any() else "-"
        rows.append(
            f"| {kind} | {len(spans)} | mean {length.mean():.2f}, max {length.max():.2f} "
            f"| {hit.mean() * 100:.1f} % | {hit[slow].mean() * 100:.0f} % "
            f"| {with_} | {np.median(took[~hit]):.2f} |"
        )
    return rows


def measure(
    checkout: Path, catalog: Path, script: Path, args: argparse.Namespace, index: int
) -> list[str]:
    """One router from ``checkout``: warm up, one traced wrk run, the overlap rows."""
    tmp = catalog.parent
    port, trace = free_port(), tmp / f"trace-{index}.json"
    env = {
        "PARETOROUTE_DATA_DIR": str(tmp / f"data-{index}"),
        "PARETOROUTE_TAIL_TRACE": str(trace),
    }
    with Processes(tmp) as procs:
        command = traced_command(checkout, port, catalog)
        procs.start(f"router-{index}", command, f"http://127.0.0.1:{port}/readyz", 180, env)
        run_wrk(port, script, 8, 2)  # warm-up
        begin = time.perf_counter()
        result = run_wrk(port, script, args.concurrency, args.duration)
        end = time.perf_counter()
        router = procs.children[f"router-{index}"]
        os.killpg(router.pid, signal.SIGINT)  # uvicorn exits cleanly: atexit runs
        router.wait(timeout=60)
    head = (
        f"{checkout} ({load_line()}): "
        f"wrk p50 {result['p50_us'] / 1000:.2f} "
        f"ms, p99 {result['p99_us'] / 1000:.2f} ms, {result['requests']:.0f} requests"
    )
    return [head, "", *TABLE_HEAD, *analyse(json.loads(trace.read_text()), (begin, end)), ""]


TABLE_HEAD = [
    "| background work | runs | length ms | requests overlapping | of the slowest 1 % "
    "| p50 with ms | p50 without ms |",
    "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
]


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print one block per run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", type=Path, nargs="+", default=[ROOT])
    parser.add_argument("--mode", choices=("named", "auto"), default="auto")
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    print(f"{args.mode}, stream {args.stream}, c={args.concurrency}, {args.duration} s per run")
    with tempfile.TemporaryDirectory(prefix="pr-tail-") as name, Processes(Path(name)) as procs:
        tmp, upstream = Path(name), free_port()
        fixed = [sys.executable, str(ROOT / "bench" / "fixed_upstream.py"), str(upstream)]
        procs.start("upstream", fixed, f"http://127.0.0.1:{upstream}/")
        catalog, script = write_catalog(tmp, upstream), tmp / "wrk.lua"
        script.write_text(wrk_script(args.mode, args.stream))
        for number in range(args.rounds):
            order = args.checkout if number % 2 == 0 else args.checkout[::-1]
            for checkout in order:
                index = number * len(args.checkout) + args.checkout.index(checkout)
                print("\n".join(measure(checkout.resolve(), catalog, script, args, index)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
