"""Router overhead: latency and throughput the router adds over calling the upstream directly.

One run starts a fixed-response upstream (``bench/fixed_upstream.py``) and the router
(``paretoroute serve``, one uvicorn worker unless ``--workers``) as separate processes on
127.0.0.1, with a catalog (written to a temp dir) of the eleven RouterBench models all
pointing at that upstream. ``wrk`` (C, one thread) then drives, for concurrency 1, 8
and 32, streaming and not: the upstream directly, the router with a named model, and the router with
``model="auto"`` (full routing). Each request carries a real RouterBench prompt made
unique by a counter, so no cache can answer it. Latency is wrk's end-to-end time (for a
stream: until ``[DONE]``). Added latency = router percentile - direct percentile at the
same concurrency. Finally it times litellm's own call path in-process
(``litellm.acompletion`` vs a raw httpx POST to the same upstream).

    .venv/bin/python bench/overhead.py [--duration 5] [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from overhead_lib import (  # noqa: E402  (bench scripts run from a checkout)
    PROXY_KEY,
    Processes,
    Result,
    Scenario,
    Target,
    free_port,
    load_line,
    proxy_command,
    router_command,
    router_scorer,
    run_scenarios,
    sanity_check,
    write_catalog,
)
from overhead_litellm import measure_litellm  # noqa: E402
from overhead_report import render, write_section  # noqa: E402

CONCURRENCY = (1, 8, 32)


def scenarios(concurrency: tuple[int, ...], proxy: bool) -> list[Scenario]:
    """Direct baselines (and the LiteLLM proxy), then the router: named model and auto."""
    baselines: tuple[Target, ...] = ("direct", "litellm") if proxy else ("direct",)
    runs = [
        Scenario(target, "named", stream, c)
        for target in baselines
        for stream in (False, True)
        for c in concurrency
    ]
    runs += [
        Scenario("router", mode, stream, c)
        for mode in ("named", "auto")
        for stream in (False, True)
        for c in concurrency
    ]
    return runs


def machine() -> str:
    """One line describing where this ran."""
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {load_line()}"


def median_run(runs: list[Result]) -> Result:
    """Of one scenario's runs, the one with the median p99 (the lower one of an even count):
    a whole run, so its p50, throughput and server view belong together."""
    return sorted(runs, key=lambda run: run.p99_ms)[(len(runs) - 1) // 2]


def main(argv: list[str] | None = None) -> int:
    """Run everything, print the tables, optionally write the BENCHMARKS.md section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=list(CONCURRENCY))
    parser.add_argument("--litellm-calls", type=int, default=300)
    parser.add_argument("--artifact", default=None, help="PARETOROUTE_ARTIFACT for the router")
    parser.add_argument(
        "--litellm-proxy",
        default=None,
        help="path of a `litellm` CLI (from an env with the proxy installed) to add as baseline",
    )
    parser.add_argument("--workers", type=int, default=1, help="router uvicorn workers")
    parser.add_argument("--write", type=Path, default=None, help="update this BENCHMARKS.md")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run every scenario this many times (all scenarios per round) and report, "
        "per scenario, the run with the median p99",
    )
    args = parser.parse_args(argv)
    console = Console(width=120)
    before = machine()
    console.print(f"machine: {before}")
    with tempfile.TemporaryDirectory(prefix="pr-overhead-") as tmp, Processes(Path(tmp)) as procs:
        upstream_port, router_port = free_port(), free_port()
        procs.start(
            "upstream",
            [sys.executable, str(ROOT / "bench" / "fixed_upstream.py"), str(upstream_port)],
            f"http://127.0.0.1:{upstream_port}/",
        )
        catalog = write_catalog(Path(tmp), upstream_port)
        procs.start(
            "router",
            router_command(router_port, catalog, args.artifact, args.workers),
            f"http://127.0.0.1:{router_port}/readyz",
            timeout_s=180,
            # A fresh request log: the default data dir keeps every earlier run's rows.
            extra_env={"PARETOROUTE_DATA_DIR": str(Path(tmp) / "data")},
        )
        console.print(sanity_check(router_port))
        scorer = router_scorer(router_port)
        ports = {"direct": upstream_port, "router": router_port}
        if args.litellm_proxy:
            ports["litellm"] = free_port()
            procs.start(
                "litellm",
                proxy_command(args.litellm_proxy, Path(tmp), upstream_port, ports["litellm"]),
                f"http://127.0.0.1:{ports['litellm']}/health/liveliness",
                timeout_s=180,
                extra_env={"LITELLM_MASTER_KEY": PROXY_KEY, "LITELLM_TELEMETRY": "False"},
            )
        runs = scenarios(tuple(args.concurrency), bool(args.litellm_proxy))
        rounds = [
            run_scenarios(runs, ports, Path(tmp), args.duration, console)
            for _ in range(args.rounds)
        ]
        results = [median_run(list(runs)) for runs in zip(*rounds, strict=True)]
        litellm_timing = measure_litellm(upstream_port, args.litellm_calls, console)
    after = machine()
    markdown = render(
        results, litellm_timing, before, after, args.duration, scorer, args.workers, args.rounds
    )
    console.print(markdown)
    if args.write:
        write_section(args.write, markdown)
        console.print(f"wrote section 'Router overhead' of {args.write}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
