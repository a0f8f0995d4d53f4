"""What litellm's own call path costs per request, measured in-process.

The same chat request goes to the fixed upstream ``calls`` times, one at a time, through
``litellm.acompletion`` and through a raw ``httpx.AsyncClient`` POST (plus ``orjson``
parsing, which any forwarder needs), non-streaming and streaming. The difference of the
medians is litellm's per-request cost on this machine.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import orjson
from rich.console import Console
from rich.progress import Progress

WARMUP = 20
MESSAGES = [{"role": "user", "content": "Write a function that adds two numbers."}]


@dataclass(frozen=True, slots=True)
class CallTiming:
    """Per-call wall time of one client path, in milliseconds."""

    path: str
    stream: bool
    p50_ms: float
    mean_ms: float
    calls: int


async def _timed(call: Callable[[], Awaitable[None]], calls: int) -> list[float]:
    for _ in range(WARMUP):
        await call()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        await call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def _clients(base: str, client: httpx.AsyncClient) -> dict[tuple[str, bool], Callable]:
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    body = {"model": "bench-fixed", "messages": MESSAGES, "max_tokens": 64}
    common = {"model": "openai/bench-fixed", "api_base": base, "api_key": "unused"}

    async def httpx_plain() -> None:
        response = await client.post(f"{base}/chat/completions", content=orjson.dumps(body))
        orjson.loads(response.content)

    async def httpx_stream() -> None:
        payload = orjson.dumps({**body, "stream": True})
        async with client.stream("POST", f"{base}/chat/completions", content=payload) as resp:
            async for line in resp.aiter_lines():
                if line.startswith("data: {"):
                    orjson.loads(line[6:])

    async def litellm_plain() -> None:
        await litellm.acompletion(messages=MESSAGES, max_tokens=64, **common)

    async def litellm_stream() -> None:
        chunks = await litellm.acompletion(messages=MESSAGES, max_tokens=64, stream=True, **common)
        async for _ in chunks:
            pass

    return {
        ("httpx", False): httpx_plain,
        ("httpx", True): httpx_stream,
        ("litellm", False): litellm_plain,
        ("litellm", True): litellm_stream,
    }


async def _measure_all(base: str, calls: int, progress: Progress) -> list[CallTiming]:
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        paths = _clients(base, client)
        task = progress.add_task("litellm vs httpx", total=len(paths))
        timings = []
        for (path, stream), call in paths.items():
            times = await _timed(call, calls)
            timings.append(
                CallTiming(path, stream, statistics.median(times), statistics.fmean(times), calls)
            )
            progress.advance(task)
    return timings


def measure_litellm(upstream_port: int, calls: int, console: Console) -> list[CallTiming]:
    """Time ``calls`` sequential requests per client path against the fixed upstream."""
    from router.process import prepare_environment

    prepare_environment()
    base = f"http://127.0.0.1:{upstream_port}/v1"
    with Progress(console=console, transient=True) as progress:
        return asyncio.run(_measure_all(base, calls, progress))
