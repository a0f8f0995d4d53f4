"""Cost of authentication and caller limits: the router with auth+limits on vs off.

One run starts, as separate processes on 127.0.0.1: the fixed-answer upstream
(``bench/fixed_upstream.py``), a ``redis-server`` on a free port, and two routers
(``paretoroute serve``, one uvicorn worker each, the prior scorer, a named model so the
decision costs next to nothing and the limits' share is visible):

- off: the embedded default (no ``PARETOROUTE_MASTER_KEY``, in-process state);
- on: ``PARETOROUTE_MASTER_KEY`` + ``PARETOROUTE_REDIS_URL`` + a global RPM, called with a
  virtual key that has every limit set (allowed models, RPM, TPM, parallel slots, daily and
  monthly budgets), so each request authenticates, counts, holds and settles in Redis;
- on, in-process: the same key and limits with in-process state (one node, no Redis).

wrk (one thread, a Lua script adding the key's ``Authorization`` header and a unique
RouterBench prompt per request) drives each router at concurrency 64 and 1, off and on
one after the other, ≤ 60 s of load in all. It prints throughput and p50/p99 side by
side, the p50 difference, and the cost per request in one saturated worker
(1/throughput on - 1/throughput off).

    .venv/bin/python bench/auth_load.py [--duration 10]   # 3 x (10 + 5) s of load

``--baseline DIR --rounds N`` also starts the three routers from another checkout (e.g.
``git worktree add /tmp/old main``) and alternates old and new N times per configuration,
reporting the median p50 and mean req/s of each, with the load average.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from limits_path import cpu_seconds  # noqa: E402
from overhead_lib import (  # noqa: E402  (bench scripts run from a checkout)
    NAMED_MODEL,
    PROXY_KEY,
    Processes,
    free_port,
    router_command,
    run_wrk,
    write_catalog,
    wrk_script,
)

MASTER = "bench-master-key-0123456789abcdef"
BIG = 10**9


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A throwaway redis-server on a free loopback port."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install -y redis-server)")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(folder)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    return process, f"redis://127.0.0.1:{port}/0"


def create_key(port: int, catalog_models: list[str]) -> str:
    """A virtual key with every limit set, far above what the run reaches."""
    limits = {
        "name": "bench",
        "allowed_models": catalog_models,
        "rpm": BIG,
        "tpm": BIG,
        "max_parallel": 1000,
        "budget_usd_per_day": 1e9,
        "budget_usd_per_month": 1e9,
    }
    response = httpx.post(
        f"http://127.0.0.1:{port}/admin/keys",
        json=limits,
        headers={"authorization": f"Bearer {MASTER}"},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["key"])


def measure(
    port: int, script: Path, concurrency: int, duration_s: int, pids: tuple[int, int]
) -> dict[str, float]:
    """wrk's figures plus the CPU ms per request of the router and of redis-server (less
    sensitive than latency to other work on the machine)."""
    before = [cpu_seconds(pid) for pid in pids]
    raw = run_wrk(port, script, concurrency, duration_s)
    router, redis = (cpu_seconds(pid) - was for pid, was in zip(pids, before, strict=True))
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50": raw["p50_us"] / 1000,
        "p99": raw["p99_us"] / 1000,
        "errors": raw["errors"],
        "requests": raw["requests"],
        "cpu": router * 1000 / max(raw["requests"], 1),
        "redis_cpu": redis * 1000 / max(raw["requests"], 1),
    }


LABELS = {"off": "off", "on": "on, Redis", "memory": "on, in-process"}


def report(concurrency: int, runs: dict[tuple[str, str], dict[str, float]]) -> list[str]:
    off = {tree: r for (tree, name), r in runs.items() if name == "off"}
    lines = [
        f"concurrency {concurrency} (load average {os.getloadavg()[0]:.1f}):",
        f"  {'limits':22}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'requests':>10}"
        f"{'p50 added':>11}{'per req':>9}{'cpu/req':>9}{'redis':>7}",
    ]
    for (tree, name), r in runs.items():
        added = r["p50"] - off[tree]["p50"]
        per_request = (1 / r["rps"] - 1 / off[tree]["rps"]) * 1000
        label = f"{tree + ': ' if tree else ''}{LABELS[name]}"
        lines.append(
            f"  {label:22}{r['rps']:>8.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}"
            f"{r['errors']:>8.0f}{r['requests']:>10.0f}{added:>+11.3f}{per_request:>+9.3f}"
            f"{r['cpu']:>9.3f}{r['redis_cpu']:>7.3f}"
        )
    return lines


def combine(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Median p50/p99/CPU and mean req/s over rounds; errors and requests summed."""
    return {
        "cpu": statistics.median(r["cpu"] for r in rounds),
        "redis_cpu": statistics.median(r["redis_cpu"] for r in rounds),
        "rps": statistics.fmean(r["rps"] for r in rounds),
        "p50": statistics.median(r["p50"] for r in rounds),
        "p99": statistics.median(r["p99"] for r in rounds),
        "errors": sum(r["errors"] for r in rounds),
        "requests": sum(r["requests"] for r in rounds),
    }


def run(
    duration_s: int,
    baseline: Path | None = None,
    rounds: int = 1,
    concurrencies: tuple[int, ...] = (64, 1),
) -> list[str]:
    import yaml

    trees = {"": ROOT} if baseline is None else {"old": baseline, "new": ROOT}
    with tempfile.TemporaryDirectory(prefix="pr-auth-load-") as tmp, Processes(Path(tmp)) as procs:
        folder = Path(tmp)
        redis, redis_url = start_redis(folder)
        try:
            upstream = free_port()
            procs.start(
                "upstream",
                [sys.executable, str(ROOT / "bench" / "fixed_upstream.py"), str(upstream)],
                f"http://127.0.0.1:{upstream}/",
            )
            catalog = write_catalog(folder, upstream)
            models = [m["name"] for m in yaml.safe_load(catalog.read_text())["models"]]
            on_env = {
                "PARETOROUTE_SCORER": "prior",
                "PARETOROUTE_MASTER_KEY": MASTER,
                "PARETOROUTE_DATABASE_URL": f"sqlite:///{folder / 'keys.db'}",
                "PARETOROUTE_GLOBAL_RPM": str(BIG),
            }
            envs = {
                "off": {"PARETOROUTE_SCORER": "prior"},
                "on": {**on_env, "PARETOROUTE_REDIS_URL": redis_url},
                "memory": on_env,
            }
            ports: dict[tuple[str, str], int] = {}
            for name, env in envs.items():
                for tree, checkout in trees.items():
                    port = ports[tree, name] = free_port()
                    procs.start(
                        f"router-{tree}-{name}",
                        router_command(port, catalog, None, checkout=checkout),
                        f"http://127.0.0.1:{port}/readyz",
                        timeout_s=180,
                        extra_env={"PARETOROUTE_DATA_DIR": str(folder / f"{tree}{name}"), **env},
                    )
            key = create_key(ports[next(iter(trees)), "on"], models)
            script = folder / "named.lua"
            script.write_text(wrk_script("named", False).replace(PROXY_KEY, key))
            for port in ports.values():
                run_wrk(port, script, 8, 1)  # warm-up
            lines = [
                f"model {NAMED_MODEL!r}; 'p50 added' = p50 - p50 off; "
                "'per req' = 1/rps - 1/rps off (ms of one saturated worker); "
                "'cpu/req', 'redis' = CPU ms per request of the router, of redis-server"
            ]
            for concurrency in concurrencies:
                seconds = duration_s if concurrency > 1 else max(2, duration_s // 2)
                seen: dict[tuple[str, str], list[dict[str, float]]] = {k: [] for k in ports}
                for _ in range(rounds):  # old and new alternate within each round
                    for target, port in ports.items():
                        pids = (procs.children[f"router-{target[0]}-{target[1]}"].pid, redis.pid)
                        seen[target].append(measure(port, script, concurrency, seconds, pids))
                lines += report(concurrency, {k: combine(v) for k, v in seen.items()})
            return lines
        finally:
            redis.kill()
            redis.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per c=64 wrk run")
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with")
    parser.add_argument("--rounds", type=int, default=1, help="runs per router, alternated")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 1])
    args = parser.parse_args(argv)
    for line in run(args.duration, args.baseline, args.rounds, tuple(args.concurrency)):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
