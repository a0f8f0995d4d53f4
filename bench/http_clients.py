"""The router's upstream clients side by side, against the fixed-response upstream.

Times ``complete`` and ``stream`` of ``AiohttpUpstream`` (aiohttp's client) and
``Http1Upstream`` (the router's own pooled HTTP/1.1 client, used for plain ``http://``
upstreams), plus a bare httpx POST for reference, in one process under uvloop (as the
server runs), rounds interleaved so that drift hits every client alike. Prints the
median over rounds of requests per second and of this process's CPU per call, at
concurrency 1 and 32. The upstream runs as its own process.

    .venv/bin/python bench/http_clients.py [--calls 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import orjson
import uvloop

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from overhead_lib import free_port  # noqa: E402  (bench scripts run from a checkout)

from router.upstream.aiohttp_upstream import AiohttpUpstream  # noqa: E402
from router.upstream.base import Upstream, UpstreamTarget  # noqa: E402
from router.upstream.http1_upstream import Http1Upstream  # noqa: E402

PROMPT = "Summarise the following text in one sentence. " * 40
BODY = {"model": "m", "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 16}
Call = Callable[[], Awaitable[None]]


def httpx_call(client: httpx.AsyncClient, url: str) -> Call:
    content = orjson.dumps(BODY)

    async def one() -> None:
        response = await client.post(url, content=content)
        orjson.loads(response.content)

    return one


def upstream_call(upstream: Upstream, target: UpstreamTarget, stream: bool) -> Call:
    async def one() -> None:
        if stream:
            async for _ in upstream.stream(target, "chat", BODY):
                pass
        else:
            await upstream.complete(target, "chat", BODY)

    return one


async def drive(one: Call, calls: int, concurrency: int) -> tuple[float, float]:
    """Requests per second and CPU microseconds per call."""
    gate = asyncio.Semaphore(concurrency)

    async def guarded() -> None:
        async with gate:
            await one()

    await asyncio.gather(*(guarded() for _ in range(max(calls // 10, concurrency))))
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(guarded() for _ in range(calls)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return calls / wall, cpu / calls * 1e6


async def measure(base: str, calls: int, rounds: int) -> None:
    target = UpstreamTarget("bench", "openai/bench-fixed", base, "sk-bench", timeout_s=30.0)
    client = httpx.AsyncClient(limits=httpx.Limits(max_connections=512))
    upstreams: dict[str, Upstream] = {"aiohttp": AiohttpUpstream(), "http1": Http1Upstream()}
    clients: dict[str, Call] = {"httpx (bare POST)": httpx_call(client, f"{base}/chat/completions")}
    for name, upstream in upstreams.items():
        clients[f"{name} complete"] = upstream_call(upstream, target, stream=False)
        clients[f"{name} stream"] = upstream_call(upstream, target, stream=True)
    results: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for _ in range(rounds):
        for concurrency in (1, 32):
            for name, one in clients.items():
                got = await drive(one, calls, concurrency)
                results.setdefault((name, concurrency), []).append(got)
    print("| client | concurrency | req/s | CPU µs per call |\n| --- | ---: | ---: | ---: |")
    for (name, concurrency), runs in sorted(results.items(), key=lambda kv: kv[0][1]):
        rate = statistics.median(r for r, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"| {name} | {concurrency} | {rate:.0f} | {cpu:.0f} |")
    await client.aclose()
    for upstream in upstreams.values():
        await upstream.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    port = free_port()
    upstream = Path(__file__).with_name("fixed_upstream.py")
    process = subprocess.Popen([sys.executable, str(upstream), str(port)])
    try:
        time.sleep(1.0)
        uvloop.run(measure(f"http://127.0.0.1:{port}/v1", args.calls, args.rounds))
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
