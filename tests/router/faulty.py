"""A loopback OpenAI-compatible upstream that fails on command, at the socket level.

Raw asyncio HTTP/1.1 (one request per connection), so it can do what a well-behaved
server framework will not: reset the connection before or in the middle of a stream,
hang, stop listening (connection refused), send oversized bodies and SSE lines, echo
the caller's ``Authorization`` header in an error.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

from tests.router.servers import free_port

MODES = (
    "ok",  # a normal completion or stream
    "status",  # HTTP ``status`` with an OpenAI error body (``retry_after`` header if set)
    "hang",  # say nothing for ``hang_s``
    "reset",  # reset the connection before answering
    "reset_before_first",  # 200 + SSE headers, then reset before any data event
    "reset_mid_stream",  # one data event, then reset
    "echo_auth",  # 401 whose message echoes the Authorization header
    "big_body",  # a ``big_bytes`` JSON body (chunked, so no length is declared)
    "long_line",  # one SSE line of ``big_bytes``
    "bad_usage",  # a completion whose usage counts are negative / fractional
    "burst",  # a stream of ``burst`` events and [DONE], all in one write
    "burst_bad_line",  # two events and a line that is not JSON, in one write
)


@dataclass
class FaultState:
    """How the fake behaves now, and what it saw."""

    mode: str = "ok"
    status: int = 500
    message: str = "upstream exploded"
    retry_after: str | None = None
    hang_s: float = 5.0
    echo_status: int = 401
    big_bytes: int = 64 * 1024 * 1024
    #: Fail only the first ``fail_times`` requests (None: every request), then answer ok.
    fail_times: int | None = None
    burst: int = 20
    hits: int = 0
    sent_bytes: int = 0
    bodies: list[dict[str, Any]] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)


def _completion(body: dict[str, Any], usage: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": "cmpl-faulty",
        "object": "chat.completion",
        "created": 1,
        "model": body.get("model", "?"),
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}
        ],
        "usage": usage or {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }


def _chunk(body: dict[str, Any], content: str, last: bool = False) -> bytes:
    chunk = {
        "id": "chunk-faulty",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": body.get("model", "?"),
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}],
    }
    if last:
        chunk["choices"][0]["finish_reason"] = "stop"
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


def _head(status: int, content_type: str, extra: str = "", length: int | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"content-type: {content_type}", "connection: close"]
    if length is not None:
        lines.append(f"content-length: {length}")
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


Writer = asyncio.StreamWriter
Responder = Callable[[FaultState, dict[str, Any], Writer], Awaitable[None]]


async def _ok(state: FaultState, body: dict[str, Any], writer: Writer) -> None:
    if body.get("stream"):
        writer.write(_head(200, "text/event-stream"))
        writer.write(_chunk(body, "hello ") + _chunk(body, "there", last=True))
        writer.write(b"data: [DONE]\n\n")
    else:
        payload = orjson.dumps(_completion(body))
        writer.write(_head(200, "application/json", length=len(payload)) + payload)


async def _status(state: FaultState, body: dict[str, Any], writer: Writer) -> None:
    payload = orjson.dumps({"error": {"message": state.message, "type": "server_error"}})
    extra = f"retry-after: {state.retry_after}" if state.retry_after is not None else ""
    writer.write(_head(state.status, "application/json", extra, len(payload)) + payload)


async def _hang(state: FaultState, body: dict[str, Any], writer: Writer) -> None:
    await asyncio.sleep(state.hang_s)


async def _reset_now(state: FaultState, body: dict[str, Any], writer: Writer) -> None:
    _reset(writer)


async def _reset_before_first(state: FaultState, body: dict[str, Any], writer: Writer) -> None:
    writer.write(_head(200, "text/event-stream"))
    await writer.drain()
    await asyncio.sleep(0.01)
    _reset(writer)


async def _reset_mid_stream(state: FaultState, body: dict[str, Any], writer: Writer) -> None:
    writer.write(_head(200, "text/event-stream") + _chunk(body, "partial "))
    await writer.drain()
    await asyncio.sleep(0.05)
    _reset(writer)


async def _echo_auth(state: FaultState, body: dict[str, Any], writer: Writer) -> None:
    said = state.auth[-1] if state.auth else ""
    message = f"Invalid credentials: {said} (checked at http://10.1.2.3:8443/v1/auth)"
    payload = orjson.dumps({"error": {"message": message, "type": "auth_error"}})
    writer.write(_head(state.echo_status, "application/json", length=len(payload)) + payload)


async def _big_body(state: FaultState, body: dict[str, Any], writer: Writer) -> None:
    writer.write(_head(200, "application/json", "transfer-encoding: chunked"))
    piece = b"x" * (1024 * 1024)
    frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    writer.write(b"1\r\n{\r\n")
    for _ in range(state.big_bytes // len(piece)):
        writer.write(frame)
        await writer.drain()
        state.sent_bytes += len(piece)
    writer.write(b"0\r\n\r\n")


async def _long_line(state: FaultState, body: dict[str, Any], writer: Writer) -> None:
    writer.write(_head(200, "text/event-stream") + _chunk(body, "first "))
    writer.write(b'data: {"choices": [{"delta": {"content": "')
    piece = b"y" * (64 * 1024)
    for _ in range(state.big_bytes // len(piece)):
        writer.write(piece)
        await writer.drain()
        state.sent_bytes += len(piece)
    writer.write(b'"}}]}\n\ndata: [DONE]\n\n')


async def _bad_usage(state: FaultState, body: dict[str, Any], writer: Writer) -> None:
    usage = {"prompt_tokens": -5, "completion_tokens": 2.5, "total_tokens": -3}
    payload = orjson.dumps(_completion(body, usage))
    writer.write(_head(200, "application/json", length=len(payload)) + payload)


async def _burst(state: FaultState, body: dict[str, Any], writer: Writer) -> None:
    events = [_chunk(body, f"w{index} ") for index in range(state.burst - 1)]
    last = _chunk(body, f"w{state.burst - 1}", last=True)
    writer.write(_head(200, "text/event-stream") + b"".join(events) + last + b"data: [DONE]\n\n")


async def _burst_bad_line(state: FaultState, body: dict[str, Any], writer: Writer) -> None:
    events = _chunk(body, "one ") + _chunk(body, "two ")
    writer.write(_head(200, "text/event-stream") + events + b"data: {not json\n\n")


RESPONDERS: dict[str, Responder] = {
    "ok": _ok,
    "status": _status,
    "hang": _hang,
    "reset": _reset_now,
    "reset_before_first": _reset_before_first,
    "reset_mid_stream": _reset_mid_stream,
    "echo_auth": _echo_auth,
    "big_body": _big_body,
    "long_line": _long_line,
    "bad_usage": _bad_usage,
    "burst": _burst,
    "burst_bad_line": _burst_bad_line,
}


async def _read_request(reader: asyncio.StreamReader) -> tuple[dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return headers, body


class FaultyUpstream:
    """The fake's server, run on its own event loop in a thread."""

    def __init__(self, state: FaultState) -> None:
        self.state = state
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        state = self.state
        try:
            headers, raw = await _read_request(reader)
            body = orjson.loads(raw)
            state.hits += 1
            state.bodies.append(body)
            state.auth.append(headers.get("authorization", ""))
            mode = state.mode
            if state.fail_times is not None and state.hits > state.fail_times:
                mode = "ok"
            await RESPONDERS[mode](state, body, writer)
            await writer.drain()
            writer.close()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.transport.abort()
        except asyncio.CancelledError:
            # Shutting down: end quietly (asyncio logs a cancelled connection task).
            writer.transport.abort()

    async def _shutdown(self) -> None:
        await self._listen(False)
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _listen(self, on: bool) -> None:
        if on and self._server is None:
            self._server = await asyncio.start_server(
                self._handle, "127.0.0.1", self.port, reuse_address=True
            )
        elif not on and self._server is not None:
            self._server.close()
            self._server = None

    def listening(self, on: bool) -> None:
        """Start or stop accepting connections (stopped: connection refused)."""
        asyncio.run_coroutine_threadsafe(self._listen(on), self._loop).result(timeout=5)

    @contextmanager
    def running(self) -> Iterator[FaultyUpstream]:
        thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        thread.start()
        try:
            self.listening(True)
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=5)
            self._loop.call_soon_threadsafe(self._loop.stop)
            thread.join(timeout=5)
            self._loop.close()


@contextmanager
def faulty_upstream(state: FaultState | None = None) -> Iterator[FaultyUpstream]:
    """A running ``FaultyUpstream`` on a free loopback port."""
    with FaultyUpstream(state or FaultState()).running() as server:
        yield server
