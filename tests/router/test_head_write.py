"""Response heads written with their bodies: one write per JSON answer, a head on its own
one loop turn later when the body is late, everything else straight through in order;
and the protocol of ``paretoroute serve`` answering normal, streamed, late, HEAD and
bodiless responses correctly on a live server."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from router.head_write import HeadCoalescingTransport, is_response_head, server_protocol
from tests.router.servers import live_server

HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n"


class Recorder(asyncio.Transport):
    """A transport that records what reaches the socket, one entry per call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.calls.append(bytes(data))

    def writelines(self, list_of_data: object) -> None:
        self.calls.append(b"".join(list_of_data))  # type: ignore[arg-type]

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def get_write_buffer_size(self) -> int:
        return 0


def coalescing() -> tuple[HeadCoalescingTransport, Recorder]:
    recorder = Recorder()
    return HeadCoalescingTransport(recorder, asyncio.get_running_loop()), recorder


def test_only_a_whole_response_head_counts_as_one() -> None:
    assert is_response_head(HEAD)
    assert is_response_head(b"HTTP/1.1 204 No Content\r\n\r\n")
    assert not is_response_head(HEAD + b"{}")  # a whole response: written at once
    assert not is_response_head(b'data: {"x": 1}\r\n\r\n')  # an SSE chunk
    assert not is_response_head(b"HTTP/1.1 200 OK\r\n")


async def test_a_head_and_its_body_go_out_in_one_write() -> None:
    transport, recorder = coalescing()
    transport.write(HEAD)
    assert recorder.calls == []
    transport.write(b"{}")
    assert recorder.calls == [HEAD + b"{}"]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert recorder.calls == [HEAD + b"{}"]  # nothing written twice


async def test_a_head_whose_body_is_late_goes_out_at_the_end_of_the_loop_turn() -> None:
    transport, recorder = coalescing()
    transport.write(HEAD)
    assert transport.get_write_buffer_size() == len(HEAD)
    await asyncio.sleep(0)
    assert recorder.calls == [HEAD]
    transport.write(b"{}")
    assert recorder.calls == [HEAD, b"{}"]


async def test_other_writes_pass_straight_through_in_order() -> None:
    transport, recorder = coalescing()
    chunks = [b"5\r\nhello\r\n", b'data: {"a": 1}\r\n\r\n', HEAD + b"{}", b"0\r\n\r\n"]
    for chunk in chunks:
        transport.write(chunk)
    assert recorder.calls == chunks


async def test_close_writes_a_held_head_first_and_abort_drops_it() -> None:
    transport, recorder = coalescing()
    transport.write(HEAD)
    transport.close()
    assert recorder.calls == [HEAD]
    assert recorder.closed
    await asyncio.sleep(0)
    assert recorder.calls == [HEAD]

    transport, recorder = coalescing()
    transport.write(HEAD)
    transport.abort()
    await asyncio.sleep(0)
    assert recorder.calls == []
    assert recorder.aborted


async def _late_chunks() -> AsyncIterator[bytes]:
    await asyncio.sleep(1.0)
    yield b"late"


async def _json(request: Request) -> Response:
    return JSONResponse({"ok": True, "echo": (await request.body()).decode()})


def _app() -> Starlette:
    async def late(_: Request) -> Response:
        return StreamingResponse(_late_chunks(), media_type="text/plain")

    async def stream(_: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(3):
                yield f"chunk {i}\n".encode()
                await asyncio.sleep(0.01)

        return StreamingResponse(chunks(), media_type="text/plain")

    async def empty(_: Request) -> Response:
        return Response(status_code=204)

    return Starlette(
        routes=[
            Route("/json", _json, methods=["GET", "POST", "HEAD"]),
            Route("/late", late),
            Route("/stream", stream),
            Route("/empty", empty),
        ]
    )


def test_the_serve_protocol_answers_every_kind_of_response() -> None:
    with live_server(_app(), http=server_protocol(10.0)) as url, httpx.Client(base_url=url) as c:
        for i in range(20):  # keep-alive: one connection, many responses
            answer = c.post("/json", content=f"body {i}")
            assert answer.status_code == 200
            assert answer.json() == {"ok": True, "echo": f"body {i}"}
        assert c.get("/stream").text == "chunk 0\nchunk 1\nchunk 2\n"
        head = c.head("/json")
        assert head.status_code == 200
        assert head.content == b""
        assert c.get("/empty").status_code == 204
        assert c.get("/json").json()["ok"] is True  # still in step after HEAD and 204


def test_a_late_body_does_not_hold_back_its_head() -> None:
    """The head of a response whose body takes a second arrives long before the body."""
    with live_server(_app(), http=server_protocol(10.0)) as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            started = time.monotonic()
            sock.sendall(b"GET /late HTTP/1.1\r\nhost: x\r\n\r\n")
            first = sock.recv(65536)
            head_after = time.monotonic() - started
            rest = b""
            while not rest.endswith(b"0\r\n\r\n"):
                rest += sock.recv(65536)
            body_after = time.monotonic() - started
    assert first.startswith(b"HTTP/1.1 200 OK\r\n")
    assert first.endswith(b"\r\n\r\n")  # the head alone, before the body existed
    assert head_after < 0.5
    assert body_after >= 0.9
    assert b"late" in rest
