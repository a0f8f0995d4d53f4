"""Memory per server worker: ``paretoroute serve --workers N`` on the embedded default.

Starts the router with N workers, sends a few routed requests so every lazy load has
happened, then reads from /proc the RSS and PSS (proportional set size: shared pages
split between the processes that map them) of every process: workers, their request-log
writer processes, the supervisor. Linux only.

    .venv/bin/python bench/worker_memory.py [--workers 1 2] [--requests 40]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from overhead_lib import Processes, children, free_port  # noqa: E402  (bench scripts run from a checkout)


def _kib(pid: int, file: str, field: str) -> int:
    for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _descendants(pid: int) -> list[int]:
    found = []
    for child in children(pid):
        found += [child, *_descendants(child)]
    return found


def _role(pid: int, root: int, workers: int) -> str:
    command = Path(f"/proc/{pid}/cmdline").read_text()
    if "router.requestlog.child" in command:
        return "request-log writer"
    if workers == 1:
        return "worker (the only process)"
    if pid == root:
        return "supervisor"
    return "worker" if "spawn_main" in command else "multiprocessing tracker"


def _traffic(url: str, count: int) -> None:
    def one(i: int) -> None:
        body = {"model": "auto", "messages": [{"role": "user", "content": f"Question {i}?"}]}
        httpx.post(url + "/v1/chat/completions", json=body, timeout=60).raise_for_status()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, range(count)))


def measure(workers: int, requests: int, table: Table) -> None:
    """One server, its processes' memory as rows of ``table``."""
    port = free_port()
    command = [sys.executable, "-c", "from router.cli import main; main()", "serve"]
    command += ["--port", str(port), "--workers", str(workers)]
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as logs, Processes(Path(logs)) as processes:
        processes.start("router", command, url + "/readyz", timeout_s=300)
        _traffic(url, requests)
        root = processes.children["router"].pid
        for pid in [root, *_descendants(root)]:
            role = _role(pid, root, workers)
            rss, pss = _kib(pid, "status", "VmRSS"), _kib(pid, "smaps_rollup", "Pss")
            table.add_row(str(workers), role, str(pid), f"{rss / 1024:.0f}", f"{pss / 1024:.0f}")


def main() -> None:
    """Measure each worker count in turn and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    table = Table(title="paretoroute serve: memory per process (MiB)")
    for column in ("workers", "process", "pid", "RSS", "PSS"):
        table.add_column(column)
    for workers in args.workers:
        measure(workers, args.requests, table)
    Console().print(table)


if __name__ == "__main__":
    main()
