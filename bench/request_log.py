"""The request log's cost per request: the same app with the log on and off, side by side.

Two apps in one process, each with an in-process fixed upstream (no network, so the
difference is the router's own work): one logs to SQLite in a temp dir, one does not.
Requests go through httpx's ASGI transport one at a time, alternating blocks between the
two apps so drift hits both alike. The writer thread runs during the measurement.

Wall-clock times move with whatever else the machine runs, so the script also reports
the serving thread's CPU time per request (``time.thread_time``: what the log adds to
the response path itself, which load on other cores does not inflate) and the writer
thread's CPU per row (the off-path work: parsing, pricing, inserting). It checks that
every request sent with the log on has its row.

    .venv/bin/python bench/request_log.py [--requests 2000] [--block 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from predictors.prior import PriorScorer  # noqa: E402
from router.app import create_app  # noqa: E402
from router.settings import Settings  # noqa: E402

REPLY = {
    "id": "cmpl-bench",
    "object": "chat.completion",
    "created": 1,
    "model": "x",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok " * 40}}],
    "usage": {"prompt_tokens": 30, "completion_tokens": 40, "total_tokens": 70},
}
SCENARIOS = {
    "auto": {"model": "auto"},
    "named": {"model": "gpt-3.5-turbo-1106"},
    "auto, stream": {"model": "auto", "stream": True},
}
MODES = ("on", "off")
#: Per mode: wall-clock and serving-thread CPU milliseconds of each request.
Samples = dict[str, list[float]]


class FixedUpstream:
    """Answers every call at once with the same completion (or a four-chunk stream)."""

    async def complete(self, target: Any, endpoint: Any, body: Any) -> dict[str, Any]:
        return {**REPLY, "choices": [dict(REPLY["choices"][0])]}

    async def stream(self, target: Any, endpoint: Any, body: Any) -> AsyncIterator[dict[str, Any]]:
        for index in range(4):
            delta = {"content": "ok "} if index else {"role": "assistant", "content": ""}
            choice = {"index": 0, "delta": delta, "finish_reason": None}
            yield {"id": "c", "object": "chat.completion.chunk", "choices": [choice]}

    async def aclose(self) -> None:
        return None


def _body(scenario: str, counter: int) -> dict[str, Any]:
    prompt = f"Question {counter}: what is the capital of France, and why?"
    return {**SCENARIOS[scenario], "messages": [{"role": "user", "content": prompt}]}


async def _time_block(
    client: httpx.AsyncClient, scenario: str, start: int, count: int, samples: Samples
) -> None:
    for counter in range(start, start + count):
        began, cpu = time.perf_counter(), time.thread_time()
        response = await client.post("/v1/chat/completions", json=_body(scenario, counter))
        await response.aread()
        samples["cpu"].append((time.thread_time() - cpu) * 1000.0)
        samples["wall"].append((time.perf_counter() - began) * 1000.0)
        assert response.status_code == 200, response.text


def _writer_cpu_s() -> float:
    writer = next(t for t in threading.enumerate() if t.name == "request-log")
    assert writer.ident is not None
    return time.clock_gettime(time.pthread_getcpuclockid(writer.ident))


async def _run(requests: int, block: int, data_dir: Path) -> tuple[dict[str, Any], float]:
    results = {s: {m: {"wall": [], "cpu": []} for m in MODES} for s in SCENARIOS}
    warm: Samples = {"wall": [], "cpu": []}
    async with AsyncExitStack() as stack:
        clients = {}
        for mode in MODES:
            settings = Settings(data_dir=data_dir, request_log=mode == "on")
            app = create_app(settings, upstream=FixedUpstream(), scorer=PriorScorer())
            await stack.enter_async_context(app.router.lifespan_context(app))
            clients[mode] = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b")
            )
            if mode == "on":
                services = app.state.services
        for scenario in SCENARIOS:
            for mode in MODES:
                await _time_block(clients[mode], scenario, 0, block, warm)
            for start in range(0, requests, block):
                for mode in MODES if (start // block) % 2 == 0 else MODES[::-1]:
                    samples = results[scenario][mode]
                    await _time_block(clients[mode], scenario, start, block, samples)
        assert services.request_log.flush(60)
        writer_cpu_s = _writer_cpu_s()
        written = services.metrics.registry.get_sample_value("paretoroute_request_log_rows_total")
    sent = len(SCENARIOS) * (requests + block)
    print(f"rows written: {written:.0f} of {sent} requests sent with the log on")
    return results, writer_cpu_s * 1000.0 / sent


def _p50(values: list[float]) -> float:
    return statistics.median(values)


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def _render(results: dict[str, Any], requests: int, writer_ms_per_row: float) -> None:
    table = Table(title=f"request log on vs off, {requests} requests each, ms per request")
    table.add_column("scenario")
    for column in ("off p50", "on p50", "p50 cost", "off p90", "on p90"):
        table.add_column(column, justify="right")
    for column in ("CPU off p50", "CPU on p50", "CPU p50 cost"):
        table.add_column(column, justify="right")
    for scenario, modes in results.items():
        off, on = modes["off"], modes["on"]
        wall = _p50(off["wall"]), _p50(on["wall"])
        cpu = _p50(off["cpu"]), _p50(on["cpu"])
        table.add_row(
            scenario,
            *(f"{v:.3f}" for v in wall),
            f"{wall[1] - wall[0]:+.3f}",
            f"{_p90(off['wall']):.3f}",
            f"{_p90(on['wall']):.3f}",
            *(f"{v:.3f}" for v in cpu),
            f"{cpu[1] - cpu[0]:+.3f}",
        )
    console = Console(width=160)
    console.print(table)
    console.print(f"writer thread CPU per row (off the response path): {writer_ms_per_row:.3f} ms")
    console.print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="per scenario and mode")
    parser.add_argument("--block", type=int, default=50, help="requests before switching app")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        results, writer_ms = asyncio.run(_run(args.requests, args.block, Path(data_dir)))
    _render(results, args.requests, writer_ms)


if __name__ == "__main__":
    main()
