"""Router replicas as real subprocesses (``paretoroute serve``) on loopback, and an
upstream whose reported usage equals what the router predicts for ``max_tokens`` calls."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from predictors.tokens import count_prompt_tokens
from tests.router.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ExactUpstream:
    """Reports the prompt tokens the router counts and ``max_tokens`` completion tokens,
    so a request's realized cost equals its predicted cost."""

    delay_s: float = 0.0
    calls: int = 0

    def app(self) -> Starlette:
        async def chat(request: Request) -> Response:
            body = orjson.loads(await request.body())
            self.calls += 1
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            prompt = count_prompt_tokens(body["messages"])
            completion = int(body.get("max_tokens") or 4)
            answer = {
                "id": "cmpl-exact",
                "object": "chat.completion",
                "created": 1,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "length",
                        "message": {"role": "assistant", "content": "word " * completion},
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
            }
            return Response(orjson.dumps(answer), media_type="application/json")

        return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])


def replica_catalog(api_base: str) -> dict[str, Any]:
    """Two cheap models on the exact upstream (same price, so cost does not depend on
    which one serves)."""

    def model(name: str) -> dict[str, Any]:
        return {
            "name": name,
            "litellm_model": f"openai/{name}",
            "api_base": api_base,
            "input_usd_per_token": 1e-6,
            "output_usd_per_token": 1e-6,
            "context_window": 8192,
        }

    return {
        "upstream_timeout_s": 60.0,
        "models": [model("small-a"), model("small-b")],
        "profiles": {"best": {"cost_weight": 0.0}},
        "default_profile": "best",
    }


@dataclass
class Replica:
    """One ``paretoroute serve`` process."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_replica(env: Mapping[str, str], log: Path) -> Replica:
    """Start ``paretoroute serve`` with ``env`` on a free port; wait until ready."""
    port = free_port()
    full = {**os.environ, **env, "PARETOROUTE_PORT": str(port), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", "from router.cli import main; main()", "serve"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=full, cwd=ROOT, stdout=out, stderr=out)
    replica = Replica(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            replica.stop()
            raise RuntimeError(f"replica did not start:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(replica.url + "/readyz", timeout=1).status_code == 200:
                return replica
        except httpx.TransportError:
            pass
        time.sleep(0.1)


@contextmanager
def replicas(envs: list[Mapping[str, str]], directory: Path) -> Iterator[list[Replica]]:
    """Several replicas, stopped on exit."""
    started: list[Replica] = []
    try:
        for index, env in enumerate(envs):
            started.append(start_replica(env, directory / f"replica-{index}.log"))
        yield started
    finally:
        for replica in started:
            replica.stop()


async def spread(
    urls: list[str], headers: Mapping[str, str], body: Mapping[str, Any], total: int, workers: int
) -> list[httpx.Response]:
    """``total`` chat requests, round-robin over ``urls``, ``workers`` at a time."""
    queue = list(range(total))
    results: list[httpx.Response] = []
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=workers)) as c:

        async def worker() -> None:
            while queue:
                index = queue.pop()
                url = urls[index % len(urls)] + "/v1/chat/completions"
                results.append(await c.post(url, json=dict(body), headers=dict(headers)))

        await asyncio.gather(*(worker() for _ in range(workers)))
    return results
