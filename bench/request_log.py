"""The request log's cost per request: the router with the log on and off, side by side.

Starts two router processes (uvicorn on 127.0.0.1, one worker each, the embedded catalog,
the prior scorer and an in-process fixed upstream, so no network upstream adds noise):
one logs every request to SQLite in a temp dir, the other does not. One client sends
requests one at a time, alternating blocks between the two servers so that whatever else
the machine runs hits both alike, for three scenarios: routed (``auto``), named, routed
stream. Reported per scenario: end-to-end p50/p90 (ms) and the server's CPU per request,
for the event-loop thread alone (the response path) and for the whole process (the
writer thread included), read from /proc. Finally it checks that the logging server
wrote one row per request it served.

    .venv/bin/python bench/request_log.py [--requests 2000] [--block 25]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REPLY: dict[str, Any] = {
    "id": "cmpl-bench",
    "object": "chat.completion",
    "created": 1,
    "model": "x",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok " * 40}}],
    "usage": {"prompt_tokens": 30, "completion_tokens": 40, "total_tokens": 70},
}
SCENARIOS: dict[str, dict[str, Any]] = {
    "auto": {"model": "auto"},
    "named": {"model": "gpt-3.5-turbo-1106"},
    "auto, stream": {"model": "auto", "stream": True},
}
MODES = ("on", "off")
_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


class FixedUpstream:
    """Answers every call at once with the same completion (or a four-chunk stream)."""

    async def complete(self, target: Any, endpoint: Any, body: Any) -> dict[str, Any]:
        return {**REPLY, "choices": [dict(REPLY["choices"][0])]}

    async def stream(
        self, target: Any, endpoint: Any, body: Any
    ) -> AsyncIterator[list[dict[str, Any]]]:
        for index in range(4):
            delta = {"content": "ok "} if index else {"role": "assistant", "content": ""}
            choice = {"index": 0, "delta": delta, "finish_reason": None}
            yield [{"id": "c", "object": "chat.completion.chunk", "choices": [choice]}]

    async def aclose(self) -> None:
        return None


def serve(mode: str, port: int, data_dir: str) -> None:
    """Child process: one router with the log ``on`` or ``off``."""
    import uvicorn

    from predictors.prior import PriorScorer
    from router.app import create_app
    from router.settings import Settings

    settings = Settings(data_dir=Path(data_dir), request_log=mode == "on")
    app = create_app(settings, upstream=FixedUpstream(), scorer=PriorScorer())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", loop="uvloop")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One router process and what was measured against it."""

    mode: str
    url: str
    process: subprocess.Popen[bytes]
    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, tuple[float, float]] = field(default_factory=dict)

    def cpu_s(self) -> tuple[float, float]:
        """(event-loop thread, whole process) CPU seconds so far."""
        pid = self.process.pid
        return _proc_cpu(f"/proc/{pid}/task/{pid}/stat"), _proc_cpu(f"/proc/{pid}/stat")


def _proc_cpu(path: str) -> float:
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * _TICK_S


@contextmanager
def _server(mode: str, data_dir: str) -> Iterator[Server]:
    port = _free_port()
    command = [sys.executable, __file__, "--serve", mode, "--port", str(port), "--data", data_dir]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    process = subprocess.Popen(command, env=env)
    server = Server(mode, f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(server.url + "/healthz", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"router ({mode}) did not start") from None
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        process.wait(60)


def _request(client: httpx.Client, scenario: str, counter: int) -> float:
    prompt = f"Question {counter}: what is the capital of France, and why?"
    body = {**SCENARIOS[scenario], "messages": [{"role": "user", "content": prompt}]}
    began = time.perf_counter()
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        response.read()
    assert response.status_code == 200, response.text
    return (time.perf_counter() - began) * 1000.0


def _rows_written(server: Server) -> float:
    for line in httpx.get(server.url + "/metrics").text.splitlines():
        if line.startswith("paretoroute_request_log_rows_total "):
            return float(line.split()[1])
    return 0.0


def _settle(server: Server, expected: int) -> None:
    """Wait until the logging server has written every row it was sent."""
    deadline = time.monotonic() + 30
    while server.mode == "on" and _rows_written(server) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {_rows_written(server):.0f} of {expected} rows written")
        time.sleep(0.05)


def _measure(servers: list[Server], scenario: str, requests: int, block: int, sent: int) -> int:
    clients = {s.mode: httpx.Client(base_url=s.url, timeout=30) for s in servers}
    for server in servers:  # warm-up
        for counter in range(block):
            _request(clients[server.mode], scenario, counter)
    sent += block
    for server in servers:
        _settle(server, sent)
        server.wall[scenario] = []
        server.cpu[scenario] = server.cpu_s()
    for start in range(0, requests, block):
        order = servers if (start // block) % 2 == 0 else servers[::-1]
        for server in order:
            for counter in range(start, start + block):
                server.wall[scenario].append(_request(clients[server.mode], scenario, counter))
    sent += requests
    for server in servers:
        _settle(server, sent)
        loop0, total0 = server.cpu[scenario]
        loop1, total1 = server.cpu_s()
        server.cpu[scenario] = ((loop1 - loop0) / requests, (total1 - total0) / requests)
        clients[server.mode].close()
    return sent


def _render(servers: dict[str, Server], requests: int) -> None:
    table = Table(title=f"request log on vs off: {requests} requests each, ms per request")
    table.add_column("scenario")
    columns = ["p50 off", "p50 on", "p50 cost", "p90 off", "p90 on"]
    columns += ["loop CPU off", "loop CPU on", "process CPU off", "process CPU on"]
    for column in columns:
        table.add_column(column, justify="right")
    on, off = servers["on"], servers["off"]
    for scenario in SCENARIOS:
        p50 = statistics.median(off.wall[scenario]), statistics.median(on.wall[scenario])
        p90 = [statistics.quantiles(s.wall[scenario], n=10)[8] for s in (off, on)]
        cpu = [value * 1000 for s in (off, on) for value in s.cpu[scenario]]
        table.add_row(
            scenario,
            f"{p50[0]:.3f}",
            f"{p50[1]:.3f}",
            f"{p50[1] - p50[0]:+.3f}",
            *(f"{v:.3f}" for v in p90),
            f"{cpu[0]:.3f}",
            f"{cpu[2]:.3f}",
            f"{cpu[1]:.3f}",
            f"{cpu[3]:.3f}",
        )
    console = Console(width=170)
    console.print(table)
    console.print(
        f"rows written by the logging router: {_rows_written(on):.0f}; "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; "
        f"CPU figures have a resolution of {_TICK_S * 1000:.0f} ms / requests"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="per scenario and mode")
    parser.add_argument("--block", type=int, default=25, help="requests before switching")
    parser.add_argument("--serve", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.data)
        return
    with tempfile.TemporaryDirectory() as data_dir, ExitStack() as stack:
        servers = {mode: stack.enter_context(_server(mode, data_dir)) for mode in MODES}
        sent = 0
        for scenario in SCENARIOS:
            sent = _measure(list(servers.values()), scenario, args.requests, args.block, sent)
        _render(servers, args.requests)


if __name__ == "__main__":
    main()
