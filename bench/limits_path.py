"""The caller limits' own cost per request, without HTTP: one request at a time through
``CallerLimits`` (admit, reserve, settle) against a throwaway redis-server or in-process.

Per request it reports the time on the answer's path (admit + reserve, median), the
client's CPU (this process, settle included) and redis-server's CPU. A key with every
limit and a global RPM, as in ``bench/auth_load.py``; ``--gap`` seconds between requests
stand for the rest of the request. ``--baseline DIR`` runs the same loop from another
checkout, alternating old and new ``--rounds`` times (each round a fresh process).

    .venv/bin/python bench/limits_path.py --baseline /tmp/old --rounds 5 [--backend memory]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

BIG = 10**9


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def loop(requests: int, url: str | None, redis_pid: int, gap_s: float) -> dict[str, float]:
    """The measuring loop, run inside the checkout under test (its ``router`` package)."""
    from prometheus_client import CollectorRegistry

    from router.auth.context import Caller, RequestAccount
    from router.auth.enforce import CallerLimits
    from router.auth.keys import KeyLimits, VirtualKey
    from router.limits.failsafe import MECHANISMS, Failsafe
    from router.limits.memory import MemoryBackend
    from router.limits.protocols import StateBackend
    from router.limits.redis_store import RedisBackend
    from router.limits.resp import REDIS_ERRORS
    from router.metrics import RouterMetrics

    backend: StateBackend = MemoryBackend() if url is None else RedisBackend(url, 3.0)
    failsafe = None
    if url is not None:
        failsafe = Failsafe(
            dict.fromkeys(MECHANISMS, "open"),
            timeout_s=3.0,
            retry_s=1.0,
            errors=REDIS_ERRORS,
            on_error=lambda mechanism: None,
        )
    limits_set = KeyLimits(
        rpm=BIG, tpm=BIG, max_parallel=1000, budget_usd_per_day=1e9, budget_usd_per_month=1e9
    )
    caller = Caller("key", VirtualKey("key_bench", "bench", limits_set, datetime.now(UTC)))
    metrics = RouterMetrics(CollectorRegistry())
    limits = CallerLimits(backend, failsafe, metrics, global_rpm=BIG, slot_ttl_s=600.0)
    on_path: list[float] = []
    pending: set[asyncio.Future[None]] = set()

    async def one() -> None:
        account = RequestAccount(caller, os.urandom(12).hex())
        started = time.perf_counter()
        await limits.admit(account, True)
        await limits.reserve(account, 1e-5)
        on_path.append(time.perf_counter() - started)
        account.status, account.recorded, account.cost_usd, account.tokens = 200, True, 1e-5, 30
        if hasattr(limits, "settle_soon"):
            limits.settle_soon(account)
        else:  # before: issued as the answer left, awaited by the finished ASGI task
            task = asyncio.ensure_future(limits.settle(account))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.sleep(gap_s)

    for _ in range(200):
        await one()
    on_path.clear()
    redis_before, cpu_before = cpu_seconds(redis_pid), time.process_time()
    for _ in range(requests):
        await one()
    if hasattr(limits, "drain"):
        await limits.drain()
    elif pending:
        await asyncio.wait(pending)
    client, redis = time.process_time() - cpu_before, cpu_seconds(redis_pid) - redis_before
    await backend.aclose()
    return {
        "on_path_p50_ms": statistics.median(on_path) * 1000,
        "client_cpu_ms": client * 1000 / requests,
        "redis_cpu_ms": redis * 1000 / requests,
    }


def measure(
    checkout: Path, args: argparse.Namespace, url: str | None, pid: int
) -> dict[str, float]:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(checkout)]
    command += ["--requests", str(args.requests), "--gap", str(args.gap), "--pid", str(pid)]
    command += ["--url", url] if url else []
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=checkout)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["redis", "memory"], default="redis")
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--gap", type=float, default=0.0015, help="seconds between requests")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--pid", type=int, default=os.getpid(), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        sys.path.insert(0, str(args.worker))  # its ``router``, not this checkout's
        print(json.dumps(asyncio.run(loop(args.requests, args.url, args.pid, args.gap))))
        return 0
    # Imported here: it imports this checkout's ``router``, which a worker must not.
    from auth_load import start_redis

    trees = {"new": ROOT} if args.baseline is None else {"old": args.baseline, "new": ROOT}
    with tempfile.TemporaryDirectory(prefix="pr-limits-path-") as tmp:
        redis, url = start_redis(Path(tmp))
        try:
            print(f"load average before: {os.getloadavg()[0]:.1f}")
            seen: dict[str, list[dict[str, float]]] = {tree: [] for tree in trees}
            for _ in range(args.rounds):
                for tree, checkout in trees.items():
                    use = url if args.backend == "redis" else None
                    seen[tree].append(measure(checkout, args, use, redis.pid))
            for tree, rounds in seen.items():
                medians = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
                print(tree, " ".join(f"{k} {v:.3f}" for k, v in medians.items()))
            print(f"load average after: {os.getloadavg()[0]:.1f}")
        finally:
            redis.kill()
            redis.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
