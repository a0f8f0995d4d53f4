"""The request log's backends side by side: SQLite, PostgreSQL and no log, `auto` at c=1.

Starts one fixed-answer upstream, a throwaway PostgreSQL server (Debian's binaries, the
same helper the tests use) and three routers (one worker each): logging to SQLite in a
temp dir, logging to that PostgreSQL, and with the log off. wrk then drives them in
rounds, one run per router per round (order rotating), with real RouterBench prompts.
Reported per backend: the median over rounds of wrk's p50 and p99, and of the router's
CPU per request, split into the event-loop thread and the rest (the log's writer thread
among them), from /proc.

    .venv/bin/python bench/log_backends.py [--rounds 3] [--duration 6] [--concurrency 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from overhead_lib import (  # noqa: E402  (bench scripts run from a checkout)
    Processes,
    cpu_s,
    free_port,
    load_line,
    router_command,
    run_wrk,
    tree_cpu_s,
    write_catalog,
    wrk_script,
)

from tests.requestlog.postgres import postgres_bin, postgres_server  # noqa: E402


def _thread_cpu_s(pid: int) -> tuple[float, float]:
    """(main thread, everything else: other threads and the writer process) CPU seconds."""
    main = cpu_s(pid, pid)
    return main, tree_cpu_s(pid) - main


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print one markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=6, help="seconds per wrk run")
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args(argv)
    bin_dir = postgres_bin()
    if bin_dir is None:
        print("PostgreSQL server binaries missing (apt-get install postgresql)")
        return 1
    print(f"machine: {os.cpu_count()} cores, at start: {load_line()}", flush=True)
    results: dict[str, list[dict[str, float]]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="pr-logs-") as name,
        postgres_server(bin_dir) as postgres_url,
        Processes(Path(name)) as procs,
    ):
        tmp = Path(name)
        upstream = free_port()
        fixed = [sys.executable, str(ROOT / "bench" / "fixed_upstream.py"), str(upstream)]
        procs.start("upstream", fixed, f"http://127.0.0.1:{upstream}/")
        catalog = write_catalog(tmp, upstream)
        backends = {
            "SQLite": {"PARETOROUTE_DATABASE_URL": f"sqlite:///{tmp / 'log.db'}"},
            "PostgreSQL": {"PARETOROUTE_DATABASE_URL": postgres_url},
            "off": {"PARETOROUTE_REQUEST_LOG": "false"},
        }
        ports: dict[str, int] = {}
        for backend, env in backends.items():
            ports[backend] = free_port()
            procs.start(
                f"router-{backend}",
                router_command(ports[backend], catalog, None),
                f"http://127.0.0.1:{ports[backend]}/readyz",
                timeout_s=240,
                extra_env={"PARETOROUTE_LOG_LEVEL": "warning", **env},
            )
            results[backend] = []
        script = tmp / "auto.lua"
        script.write_text(wrk_script("auto", False))
        for port in ports.values():
            run_wrk(port, script, 8, 1)  # warm-up
        order = list(backends)
        for number in range(args.rounds):
            print(f"round {number + 1}/{args.rounds} ({', '.join(order)}), {load_line()}")
            for backend in order:
                pid = procs.children[f"router-{backend}"].pid
                before = _thread_cpu_s(pid)
                result = run_wrk(ports[backend], script, args.concurrency, args.duration)
                after = _thread_cpu_s(pid)
                served = max(result["requests"], 1)
                result["loop_ms"] = (after[0] - before[0]) * 1000 / served
                result["rest_ms"] = (after[1] - before[1]) * 1000 / served
                results[backend].append(result)
            order = order[1:] + order[:1]
    print(f"at end: {load_line()}\n")
    print(
        f"`auto`, concurrency {args.concurrency}, median of {args.rounds} rounds of "
        f"{args.duration} s; latencies in ms, CPU in ms per request\n"
    )
    print("| request log | p50 | p99 | event-loop CPU | rest: threads, writer process | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for backend, runs in results.items():

        def median(key: str, runs: list[dict[str, float]] = runs) -> float:
            return statistics.median(run[key] for run in runs)

        errors = sum(int(run["errors"]) for run in runs)
        print(
            f"| {backend} | {median('p50_us') / 1000:.2f} | {median('p99_us') / 1000:.2f} "
            f"| {median('loop_ms'):.2f} | {median('rest_ms'):.2f} | {errors} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
