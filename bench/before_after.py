"""Two checkouts of the router side by side in one run: per-request overhead, before vs after.

Starts one fixed-answer upstream (``bench/fixed_upstream.py``) and, for each checkout
(``--before`` and ``--after``, each a directory with this repository in it), two routers
(``paretoroute serve``, one worker, its own data dir): the request log on and off. wrk
then drives them in rounds; inside a round every scenario runs on before and after back to
back, in ABBA order across rounds, so drift in the machine's load hits both alike. Reported
per scenario: the median over rounds of wrk's p50, p99 and req/s, and after/before ratios;
then, paired by round, the median of after - before and how often after was lower.
Scenarios: named at concurrency 1 with the log on and off (the log's cost is the p50
difference), and named and auto at 8 and 32 (auto also at 1) with the log on (the default).
With ``--streaming``: streaming named and streaming auto at 1, 8 and 32 instead.

    .venv/bin/python bench/before_after.py --before /tmp/before --after . [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from overhead_lib import (  # noqa: E402  (bench scripts run from a checkout)
    Mode,
    Processes,
    free_port,
    load_line,
    router_command,
    run_wrk,
    tree_cpu_s,
    write_catalog,
    wrk_script,
)

SIDES = ("before", "after")


@dataclass(frozen=True, slots=True)
class Case:
    """One wrk configuration, run against the same kind of router on both sides."""

    mode: Mode
    concurrency: int
    log: bool
    stream: bool = False


STREAM_CASES = (
    Case("named", 1, True, stream=True),
    Case("named", 8, True, stream=True),
    Case("named", 32, True, stream=True),
    Case("auto", 1, True, stream=True),
    Case("auto", 8, True, stream=True),
    Case("auto", 32, True, stream=True),
)
CASES = (
    Case("named", 1, True),
    Case("named", 1, False),
    Case("named", 8, True),
    Case("named", 32, True),
    Case("auto", 1, True),
    Case("auto", 8, True),
    Case("auto", 32, True),
)


def _measure(pid: int, port: int, script: Path, case: Case, duration: int) -> dict[str, float]:
    """One wrk run, with the router's CPU time per request added (``cpu_ms``; its child
    processes included, i.e. the request log's writer process)."""
    before = tree_cpu_s(pid)
    result = run_wrk(port, script, case.concurrency, duration)
    result["cpu_ms"] = (tree_cpu_s(pid) - before) * 1000 / max(result["requests"], 1)
    return result


def _start_routers(
    procs: Processes, tmp: Path, catalog: Path, checkouts: dict[str, Path], extra: dict[str, str]
) -> dict[tuple[str, bool], int]:
    ports: dict[tuple[str, bool], int] = {}
    for side, checkout in checkouts.items():
        for log in (True, False):
            port = free_port()
            env = {
                "PYTHONPATH": str(checkout),
                "PARETOROUTE_DATA_DIR": str(tmp / f"{side}-{log}"),
                "PARETOROUTE_REQUEST_LOG": str(log).lower(),
                "PARETOROUTE_LOG_LEVEL": "warning",
                **extra,
            }
            procs.start(
                f"router-{side}-{log}",
                router_command(port, catalog, None, checkout=checkout),
                f"http://127.0.0.1:{port}/readyz",
                timeout_s=240,
                extra_env=env,
            )
            ports[(side, log)] = port
    return ports


def _row(case: Case, runs: dict[str, list[dict[str, float]]]) -> str:
    def median(side: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[side])

    cells = []
    for side in SIDES:
        p50, p99 = median(side, "p50_us") / 1000, median(side, "p99_us") / 1000
        rps = statistics.median(r["requests"] / (r["duration_us"] / 1e6) for r in runs[side])
        cpu = median(side, "cpu_ms")
        cells.append(f"{p50:.2f} / {p99:.2f} | {rps:.0f} | {cpu:.2f}")
    before = statistics.median(r["requests"] / r["duration_us"] for r in runs["before"])
    after = statistics.median(r["requests"] / r["duration_us"] for r in runs["after"])
    errors = sum(int(r["errors"]) for side in SIDES for r in runs[side])
    joined = " | ".join(cells)
    return f"| {_label(case)} | {joined} | {after / before:.2f} | {errors} |"


def _label(case: Case) -> str:
    mode = f"streaming {case.mode}" if case.stream else case.mode
    return f"{mode} | {case.concurrency} | {'on' if case.log else 'off'}"


def _paired(case: Case, runs: dict[str, list[dict[str, float]]]) -> str:
    """Per round, after minus before (measured back to back): the median difference of
    p50 and of CPU per request, and in how many rounds the after side was lower. A
    paired figure resolves smaller changes than the difference of two medians when the
    machine's speed drifts between rounds."""
    pairs = list(zip(runs["before"], runs["after"], strict=True))
    p50 = [(after["p50_us"] - before["p50_us"]) / 1000 for before, after in pairs]
    cpu = [after["cpu_ms"] - before["cpu_ms"] for before, after in pairs]
    lower = f"{sum(d < 0 for d in p50)} / {sum(d < 0 for d in cpu)} of {len(pairs)}"
    return (
        f"| {_label(case)} | {statistics.median(p50):+.3f} | {statistics.median(cpu):+.3f} "
        f"| {lower} |"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print one markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="checkout measured first")
    parser.add_argument("--after", type=Path, required=True, help="checkout measured second")
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--router-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="environment for every router, e.g. PARETOROUTE_RESILIENCE__BREAKER_WINDOW_S=0.5 "
        "(at main 6d80b67 a breaker call scans its whole window: a server's cost then grows "
        "with how many requests it served in the last 30 s, which skews side-by-side runs)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=None,
        help="run only the scenarios at these concurrencies (default: all)",
    )
    parser.add_argument(
        "--streaming", action="store_true", help="run the streaming scenarios instead"
    )
    args = parser.parse_args(argv)
    pool = STREAM_CASES if args.streaming else CASES
    cases = [c for c in pool if args.concurrency is None or c.concurrency in args.concurrency]
    checkouts = {"before": args.before.resolve(), "after": args.after.resolve()}
    print(f"machine: {os.cpu_count()} cores, at start: {load_line()}", flush=True)
    print(f"router environment: {args.router_env or 'defaults'}", flush=True)
    with tempfile.TemporaryDirectory(prefix="pr-ab-") as name, Processes(Path(name)) as procs:
        tmp = Path(name)
        upstream = free_port()
        fixed = [sys.executable, str(ROOT / "bench" / "fixed_upstream.py"), str(upstream)]
        procs.start("upstream", fixed, f"http://127.0.0.1:{upstream}/")
        extra = dict(item.split("=", 1) for item in args.router_env)
        ports = _start_routers(procs, tmp, write_catalog(tmp, upstream), checkouts, extra)
        kinds: set[tuple[Mode, bool]] = {(c.mode, c.stream) for c in cases} | {("named", False)}
        scripts = {kind: tmp / f"{kind[0]}-{kind[1]}.lua" for kind in kinds}
        for (mode, stream), script in scripts.items():
            script.write_text(wrk_script(mode, stream))
            for port in ports.values():
                run_wrk(port, script, 8, 1)  # warm-up
        direct = run_wrk(upstream, scripts[("named", False)], 1, args.duration)
        runs: dict[Case, dict[str, list[dict[str, float]]]] = {
            c: {s: [] for s in SIDES} for c in cases
        }
        for number in range(args.rounds):
            order = SIDES if number % 2 == 0 else SIDES[::-1]
            print(
                f"round {number + 1}/{args.rounds} ({' then '.join(order)}), {load_line()}",
                flush=True,
            )
            for case in cases:
                for side in order:
                    port = ports[(side, case.log)]
                    pid = procs.children[f"router-{side}-{case.log}"].pid
                    script = scripts[(case.mode, case.stream)]
                    result = _measure(pid, port, script, case, args.duration)
                    runs[case][side].append(result)
    print(f"at end: {load_line()}; direct upstream c=1 p50 {direct['p50_us'] / 1000:.2f} ms")
    print(f"\nmedian of {args.rounds} rounds, {args.duration} s each; latencies in ms\n")
    print(
        "| model | conc | log | before p50 / p99 | before req/s | before CPU ms/req "
        "| after p50 / p99 | after req/s | after CPU ms/req | req/s after/before | errors |"
    )
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for case in cases:
        print(_row(case, runs[case]))
    print("\npaired by round: after - before, median over rounds\n")
    print("| model | conc | log | p50 ms | CPU ms/req | rounds after lower (p50 / CPU) |")
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    for case in cases:
        print(_paired(case, runs[case]))
    if Case("named", 1, False) not in runs:
        return 0
    on, off = runs[Case("named", 1, True)], runs[Case("named", 1, False)]
    for side in SIDES:
        pairs = list(zip(on[side], off[side], strict=True))
        costs = [(a["p50_us"] - b["p50_us"]) / 1000 for a, b in pairs]
        cpu = statistics.median(a["cpu_ms"] - b["cpu_ms"] for a, b in pairs)
        print(
            f"\nrequest log cost, named, c=1 ({side}): p50 on - off median "
            f"{statistics.median(costs):.3f} ms (rounds: {[round(c, 3) for c in costs]}); "
            f"router CPU per request on - off {cpu:.3f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
