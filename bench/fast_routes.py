"""What FastAPI's request handling costs a generation request, and what the fast routes save.

The router's real app (``create_app``, embedded catalog, every middleware; request log
off) is driven in-process through ASGI, with ``generate`` replaced by a fixed answer so
that only the way to it is timed: once with the fast routes (``router/api/fast_routes.py``)
and once with FastAPI's own routes, alternating, ``--rounds`` times ``--calls`` requests.
The body is a bench prompt (``overhead_lib``). Prints thread CPU per request.

    .venv/bin/python bench/fast_routes.py [--calls 3000] [--rounds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import orjson

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).parent)]

from overhead_lib import bench_content, bench_prompts  # noqa: E402


async def _per_request_us(app: Any, body: bytes, calls: int) -> float:
    scope = {
        "type": "http", "method": "POST", "path": "/v1/chat/completions",
        "raw_path": b"/v1/chat/completions", "root_path": "", "scheme": "http",
        "query_string": b"", "http_version": "1.1", "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 2),
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    }  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    for _ in range(100):
        await app(dict(scope), receive, send)
    started = time.thread_time()
    for _ in range(calls):
        await app(dict(scope), receive, send)
    elapsed = time.thread_time() - started
    assert set(statuses) == {200}, set(statuses)
    return elapsed / calls * 1e6


async def _main(calls: int, rounds: int) -> None:
    from fastapi.responses import Response

    from router.api import fast_routes, generation
    from router.api.fast_routes import GenerationRoute
    from router.app import create_app
    from router.settings import Settings

    async def answered(*_: Any) -> Response:
        return Response(b'{"ok": true}', media_type="application/json")

    generation.generate = answered  # type: ignore[assignment]
    fast_routes.generate = answered  # type: ignore[assignment]
    fast_app, slow_app = create_app(Settings()), create_app(Settings())
    slow_app.router.routes[:] = [
        r for r in slow_app.router.routes if not isinstance(r, GenerationRoute)
    ]
    body = orjson.dumps(
        {"model": "auto", "max_tokens": 64,
         "messages": [{"role": "user", "content": bench_content(bench_prompts()[0], 1)}]}
    )  # fmt: skip
    results: dict[str, list[float]] = {"fast routes": [], "FastAPI routes": []}
    fast_life, slow_life = fast_app.router.lifespan_context, slow_app.router.lifespan_context
    async with fast_life(fast_app), slow_life(slow_app):
        for _ in range(rounds):
            results["fast routes"].append(await _per_request_us(fast_app, body, calls))
            results["FastAPI routes"].append(await _per_request_us(slow_app, body, calls))
    for name, values in results.items():
        rounds_text = ", ".join(f"{v:.0f}" for v in values)
        print(f"{name:15s} median {statistics.median(values):6.1f} us/request ({rounds_text})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("PARETOROUTE_REQUEST_LOG", "false")
    asyncio.run(_main(args.calls, args.rounds))


if __name__ == "__main__":
    main()
