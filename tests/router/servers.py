"""Real servers on loopback for tests: any ASGI app under uvicorn, and a fake OpenAI upstream."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(app: Any, http: Any = "auto") -> Iterator[str]:
    """Run ``app`` under uvicorn on a free loopback port (``http``: uvicorn's protocol
    option); yield its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", http=http
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class FakeUpstreamState:
    """What the fake upstream saw and how it should misbehave."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    fail_status: int | None = None
    fail_message: str = "upstream exploded"
    delay_s: float = 0.0
    reply: str = "Hello from the fake upstream."


def _completion(body: dict[str, Any], state: FakeUpstreamState, chat: bool) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": 0, "finish_reason": "stop"}
    if chat:
        choice["message"] = {"role": "assistant", "content": state.reply}
    else:
        choice["text"] = state.reply
    return {
        "id": "cmpl-fake",
        "object": "chat.completion" if chat else "text_completion",
        "created": 1,
        "model": body.get("model", "?"),
        "choices": [choice],
        "usage": {"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11},
    }


def _chunks(body: dict[str, Any], state: FakeUpstreamState) -> list[bytes]:
    pieces = [{"role": "assistant", "content": ""}] + [
        {"content": word + " "} for word in state.reply.split()
    ]
    events = []
    for index, delta in enumerate(pieces):
        last = index == len(pieces) - 1
        chunk = {
            "id": "chunk-fake",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": body.get("model", "?"),
            "choices": [{"index": 0, "delta": delta, "finish_reason": "stop" if last else None}],
        }
        events.append(b"data: " + orjson.dumps(chunk) + b"\n\n")
    return [*events, b"data: [DONE]\n\n"]


def fake_openai_app(state: FakeUpstreamState) -> Starlette:
    """An OpenAI-compatible upstream whose failures the test controls."""

    async def handle(request: Request, chat: bool) -> Response:
        body = orjson.loads(await request.body())
        state.requests.append(body)
        state.headers.append(dict(request.headers))
        if state.delay_s:
            await asyncio.sleep(state.delay_s)
        if state.fail_status:
            error = {"error": {"message": state.fail_message, "type": "server_error"}}
            return Response(orjson.dumps(error), status_code=state.fail_status)
        if body.get("stream"):

            async def events() -> Any:
                for event in _chunks(body, state):
                    yield event

            return StreamingResponse(events(), media_type="text/event-stream")
        return Response(orjson.dumps(_completion(body, state, chat)), media_type="application/json")

    async def chat(request: Request) -> Response:
        return await handle(request, chat=True)

    async def text(request: Request) -> Response:
        return await handle(request, chat=False)

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/completions", text, methods=["POST"]),
        ]
    )


@dataclass
class Listener:
    """A loopback TCP listener that records every connection made to it."""

    url: str
    connections: list[tuple[str, int]]


@contextmanager
def listener() -> Iterator[Listener]:
    """A port nothing should ever connect to; the test asserts ``connections`` stays empty."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.05)
    seen = Listener(f"http://127.0.0.1:{sock.getsockname()[1]}/v1", [])
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, peer = sock.accept()
            except OSError:
                continue
            seen.connections.append(peer)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()
