"""httpx vs aiohttp as the router's upstream client, against the fixed-response upstream.

Why the router forwards with aiohttp: run ``python bench/http_clients.py`` and compare
requests per second at concurrency 1 and 32 (same process, same upstream, same body).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import httpx
import orjson

BODY = orjson.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
HEADERS = {"content-type": "application/json"}


async def _drive(one: Callable[[], Awaitable[None]], calls: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def guarded() -> None:
        async with gate:
            await one()

    start = time.perf_counter()
    await asyncio.gather(*(guarded() for _ in range(calls)))
    return calls / (time.perf_counter() - start)


async def with_httpx(url: str, calls: int, concurrency: int) -> float:
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=128)
    async with httpx.AsyncClient(limits=limits) as client:

        async def one() -> None:
            response = await client.post(url, content=BODY, headers=HEADERS)
            orjson.loads(response.content)

        await _drive(one, calls // 10, concurrency)
        return await _drive(one, calls, concurrency)


async def with_aiohttp(url: str, calls: int, concurrency: int) -> float:
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            async with session.post(url, data=BODY, headers=HEADERS) as response:
                orjson.loads(await response.read())

        await _drive(one, calls // 10, concurrency)
        return await _drive(one, calls, concurrency)


async def measure(url: str, calls: int) -> None:
    print("| client | concurrency | req/s |\n| --- | ---: | ---: |")
    for concurrency in (1, 32):
        for name, run in (("httpx", with_httpx), ("aiohttp", with_aiohttp)):
            rate = await run(url, calls, concurrency)
            print(f"| {name} | {concurrency} | {rate:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--port", type=int, default=9931)
    args = parser.parse_args()
    upstream = Path(__file__).with_name("fixed_upstream.py")
    process = subprocess.Popen([sys.executable, str(upstream), str(args.port)])
    try:
        time.sleep(1.0)
        url = f"http://127.0.0.1:{args.port}/v1/chat/completions"
        asyncio.run(measure(url, args.calls))
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
