"""The router's own HTTP/1.1 client (``Http1Upstream``) against a scripted socket server
on loopback: keep-alive and its limits, the framings a server may choose, compression,
flow control, and what it refuses to send."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from router.errors import (
    UpstreamConnectionError,
    UpstreamError,
    UpstreamRateLimitError,
    UpstreamResponseError,
)
from router.upstream.base import ChunkBatch, Endpoint, Payload, UpstreamTarget
from router.upstream.http1_conn import HIGH_WATER, Http1Connection
from router.upstream.http1_pool import plain_origin
from router.upstream.http1_upstream import Http1Upstream
from router.upstream.limits import ResponseLimits

BODY = {"messages": [{"role": "user", "content": "hi"}]}
ANSWER = orjson.dumps({"object": "chat.completion", "choices": [{"index": 0}]})
Writer = asyncio.StreamWriter
#: A script gets the request's number (from 0), its headers and body, and the writer.
Script = Callable[[int, dict[str, str], bytes, Writer], Awaitable[bool]]


def response(body: bytes = ANSWER, extra: str = "", status: str = "200 OK") -> bytes:
    head = f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{extra}"
    return head.encode() + b"content-length: %d\r\n\r\n" % len(body) + body


async def answer(n: int, headers: dict[str, str], body: bytes, writer: Writer) -> bool:
    writer.write(response())
    return True  # keep the connection


@dataclass
class Scripted:
    """A socket server that runs ``script`` for each request and counts connections."""

    script: Script = answer
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")[1:]
                headers = {
                    k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines if x)
                }
                body = await reader.readexactly(int(headers["content-length"]))
                self.requests.append((headers, body))
                keep = await self.script(len(self.requests) - 1, headers, body, writer)
                await writer.drain()
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open_now -= 1
            writer.close()


def target(port: int, timeout_s: float = 5.0) -> UpstreamTarget:
    return UpstreamTarget("m", "openai/m", f"http://127.0.0.1:{port}/v1", "sk-x", timeout_s)


def run(server: Scripted, calls: Callable[[int], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listening.sockets[0].getsockname()[1]
        try:
            return await calls(port)
        finally:
            listening.close()

    return asyncio.run(main())


def test_keep_alive_reuses_one_connection() -> None:
    server = Scripted()
    upstream = Http1Upstream()

    async def calls(port: int) -> list[Payload]:
        got = [await upstream.complete(target(port), "chat", BODY) for _ in range(20)]
        await upstream.aclose()
        return got

    assert all(r["object"] == "chat.completion" for r in run(server, calls))
    assert server.connections == 1 and len(server.requests) == 20
    headers, body = server.requests[0]
    assert headers["host"].startswith("127.0.0.1:") and headers["authorization"] == "Bearer sk-x"
    assert orjson.loads(body)["model"] == "m"


async def close_after(n: int, headers: dict[str, str], body: bytes, writer: Writer) -> bool:
    writer.write(response(extra="connection: close\r\n"))
    return False


async def silent_close(n: int, headers: dict[str, str], body: bytes, writer: Writer) -> bool:
    writer.write(response())  # promises keep-alive, then closes (an idle timeout)
    return False


@pytest.mark.parametrize("script", [close_after, silent_close])
def test_a_closed_connection_is_replaced(script: Script) -> None:
    server = Scripted(script)
    upstream = Http1Upstream()

    async def calls(port: int) -> list[Payload]:
        got = []
        for _ in range(5):
            got.append(await upstream.complete(target(port), "chat", BODY))
            await asyncio.sleep(0.02)  # the close reaches the client, or not yet
        return got

    assert len(run(server, calls)) == 5
    assert server.connections == 5


def test_stale_connection_is_retried_once_on_a_new_one() -> None:
    """A kept connection the server drops as the request arrives: sent again, once."""

    async def drop_second(n: int, headers: dict[str, str], body: bytes, writer: Writer) -> bool:
        if n == 1:
            writer.transport.abort()
            return False
        writer.write(response())
        return True

    server = Scripted(drop_second)
    upstream = Http1Upstream()

    async def calls(port: int) -> list[Payload]:
        return [await upstream.complete(target(port), "chat", BODY) for _ in range(3)]

    assert len(run(server, calls)) == 3
    assert server.connections == 2 and len(server.requests) == 4


def test_a_fresh_connection_that_breaks_is_not_retried() -> None:
    async def drop(n: int, headers: dict[str, str], body: bytes, writer: Writer) -> bool:
        writer.transport.abort()
        return False

    server = Scripted(drop)

    async def calls(port: int) -> None:
        await Http1Upstream().complete(target(port), "chat", BODY)

    with pytest.raises(UpstreamConnectionError):
        run(server, calls)
    assert len(server.requests) == 1


def framed(kind: str) -> bytes:
    if kind == "chunked":
        pieces = [ANSWER[:10], ANSWER[10:]]
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
        return b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + chunks
    if kind == "until-close":
        return b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n" + ANSWER
    if kind == "continue":
        return b"HTTP/1.1 100 Continue\r\n\r\n" + response()
    if kind == "gzip":
        return response(gzip.compress(ANSWER), "content-encoding: gzip\r\n")
    return response(zlib.compress(ANSWER), "content-encoding: deflate\r\n")


@pytest.mark.parametrize("kind", ["chunked", "until-close", "continue", "gzip", "deflate"])
def test_every_framing_and_coding_is_read(kind: str) -> None:
    async def script(n: int, headers: dict[str, str], body: bytes, writer: Writer) -> bool:
        writer.write(framed(kind))
        return kind != "until-close"

    async def calls(port: int) -> Payload:
        return await Http1Upstream().complete(target(port), "chat", BODY)

    assert run(Scripted(script), calls) == orjson.loads(ANSWER)


def test_a_compressed_bomb_stops_at_the_body_cap() -> None:
    bomb = gzip.compress(b" " * (32 * 1024 * 1024))  # 32 MiB of spaces in ~32 KiB

    async def script(n: int, headers: dict[str, str], body: bytes, writer: Writer) -> bool:
        writer.write(response(bomb, "content-encoding: gzip\r\n"))
        return True

    async def calls(port: int) -> None:
        upstream = Http1Upstream(limits=ResponseLimits(max_body_bytes=1024 * 1024))
        await upstream.complete(target(port), "chat", BODY)

    with pytest.raises(UpstreamResponseError, match="larger than the router's limit"):
        run(Scripted(script), calls)


@pytest.mark.parametrize("coding", ["br", "zstd"])
def test_an_unknown_coding_is_a_clear_error(coding: str) -> None:
    async def script(n: int, headers: dict[str, str], body: bytes, writer: Writer) -> bool:
        writer.write(response(b"\x00\x01", f"content-encoding: {coding}\r\n"))
        return True

    async def calls(port: int) -> None:
        await Http1Upstream().complete(target(port), "chat", BODY)

    with pytest.raises(UpstreamResponseError, match=f"cannot decode \\({coding}\\)"):
        run(Scripted(script), calls)


UPGRADE = b"HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: h2c\r\n\r\n"


@pytest.mark.parametrize("reply", [b"SMTP READY\r\n\r\n", UPGRADE], ids=["junk", "upgrade"])
def test_malformed_response_is_a_connection_error(reply: bytes) -> None:
    async def script(n: int, headers: dict[str, str], body: bytes, writer: Writer) -> bool:
        writer.write(reply)
        return True

    async def calls(port: int) -> None:
        await Http1Upstream().complete(target(port), "chat", BODY)

    with pytest.raises(UpstreamConnectionError):
        run(Scripted(script), calls)


@pytest.mark.parametrize("key", ["sk-x\r\nx-injected: 1", "sk-x\nhost: evil", "sk\x00x"])
def test_a_header_that_would_break_the_request_is_never_sent(key: str) -> None:
    server = Scripted()

    async def calls(port: int) -> None:
        bad = UpstreamTarget("m", "openai/m", f"http://127.0.0.1:{port}/v1", key, 5.0)
        await Http1Upstream().complete(bad, "chat", BODY)

    with pytest.raises(UpstreamConnectionError):
        run(server, calls)
    assert server.connections == 0


def test_connections_stay_within_the_limit() -> None:
    async def slow(n: int, headers: dict[str, str], body: bytes, writer: Writer) -> bool:
        await asyncio.sleep(0.05)
        writer.write(response())
        return True

    server = Scripted(slow)
    upstream = Http1Upstream(max_connections=2)

    async def calls(port: int) -> list[Payload]:
        jobs = (upstream.complete(target(port), "chat", BODY) for _ in range(8))
        return await asyncio.gather(*jobs)

    assert len(run(server, calls)) == 8
    assert server.most_open == 2


def sse(count: int, size: int) -> bytes:
    events = b""
    for i in range(count):
        chunk = {"id": str(i), "choices": [{"index": 0, "delta": {"content": "x" * size}}]}
        events += b"data: " + orjson.dumps(chunk) + b"\n\n"
    return events + b"data: [DONE]\n\n"


def test_a_stream_abandoned_midway_closes_its_connection() -> None:
    async def stream(n: int, headers: dict[str, str], body: bytes, writer: Writer) -> bool:
        if n == 3:
            return await answer(n, headers, body, writer)
        whole = response(sse(50, 10), "content-type: text/event-stream\r\n")
        writer.write(whole[: len(whole) // 2])
        await writer.drain()
        await asyncio.sleep(0.05)  # the client has its first batch and walks away
        writer.write(whole[len(whole) // 2 :])
        return True

    server = Scripted(stream)
    upstream = Http1Upstream()

    async def first_batch(port: int) -> ChunkBatch:
        batches = upstream.stream(target(port), "chat", BODY)
        async for batch in batches:
            await batches.aclose()  # type: ignore[attr-defined]
            return batch
        raise AssertionError("no batch")

    async def calls(port: int) -> tuple[list[ChunkBatch], Payload]:
        cut = [await first_batch(port) for _ in range(3)]
        return cut, await upstream.complete(target(port), "chat", BODY)

    cut, after = run(server, calls)
    assert all(cut) and after["object"] == "chat.completion"
    assert server.connections == 4  # each half-read stream's connection was closed


def test_a_slow_reader_pauses_the_socket() -> None:
    """The protocol stops reading while more than HIGH_WATER bytes wait unread."""

    class Transport:
        def __init__(self) -> None:
            self.reading = True

        def pause_reading(self) -> None:
            self.reading = False

        def resume_reading(self) -> None:
            self.reading = True

        def writelines(self, data: object) -> None:
            pass

        def is_closing(self) -> bool:
            return False

    async def main() -> list[bool]:
        connection = Http1Connection()
        transport = Transport()
        connection.connection_made(transport)  # type: ignore[arg-type]
        connection.send(b"", b"")
        connection.data_received(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        states = [transport.reading]
        piece = b"x" * 65536
        for _ in range(HIGH_WATER // len(piece) + 1):
            connection.data_received(b"%x\r\n%s\r\n" % (len(piece), piece))
        states.append(transport.reading)
        assert len(await connection.read()) > HIGH_WATER
        states.append(transport.reading)
        return states

    assert asyncio.run(main()) == [True, False, True]


def test_only_plain_http_without_credentials_takes_this_client() -> None:
    assert plain_origin("http://127.0.0.1:8000/v1/chat/completions") is not None
    assert plain_origin("http://[::1]:8000/v1/x").host == "::1"  # type: ignore[union-attr]
    for url in ("https://api.openai.com/v1/x", "http://u:p@host/v1/x", "http://h:99999/x"):
        assert plain_origin(url) is None


def test_https_goes_to_the_fallback() -> None:
    seen: list[str] = []

    class Fallback:
        async def complete(self, target: UpstreamTarget, endpoint: Endpoint, body: Payload):
            seen.append(target.api_base or "")
            return {"object": "fallback"}

        async def stream(self, target: UpstreamTarget, endpoint: Endpoint, body: Payload):
            seen.append(target.api_base or "")
            yield [{"object": "fallback"}]

        async def aclose(self) -> None:
            pass

    upstream = Http1Upstream(fallback=Fallback())
    hosted = UpstreamTarget("m", "openai/m", "https://api.example.com/v1", "sk", 5.0)

    async def main() -> tuple[Payload, list[ChunkBatch]]:
        done = await upstream.complete(hosted, "chat", BODY)
        return done, [b async for b in upstream.stream(hosted, "chat", BODY)]

    done, batches = asyncio.run(main())
    assert done == {"object": "fallback"} and batches == [[{"object": "fallback"}]]
    assert seen == ["https://api.example.com/v1"] * 2


def test_an_upstream_error_status_is_mapped_with_its_message() -> None:
    async def script(n: int, headers: dict[str, str], body: bytes, writer: Writer) -> bool:
        error = orjson.dumps({"error": {"message": "no such model", "type": "invalid"}})
        writer.write(response(error, status="404 Not Found"))
        return True

    async def calls(port: int) -> None:
        await Http1Upstream().complete(target(port), "chat", BODY)

    with pytest.raises(UpstreamError, match="no such model"):
        run(Scripted(script), calls)


@pytest.mark.parametrize("coding", ["br", "gzip"])
def test_an_error_body_that_cannot_be_decoded_keeps_its_status(coding: str) -> None:
    """A 429 whose body is in an unknown coding (or corrupt gzip) is still a rate limit."""

    async def script(n: int, headers: dict[str, str], body: bytes, writer: Writer) -> bool:
        extra = f"content-encoding: {coding}\r\nretry-after: 7\r\n"
        writer.write(response(b"\x8b\x00garbage", extra, status="429 Too Many Requests"))
        return True

    async def calls(port: int) -> None:
        await Http1Upstream().complete(target(port), "chat", BODY)

    with pytest.raises(UpstreamRateLimitError) as raised:
        run(Scripted(script), calls)
    assert raised.value.status_code == 429 and raised.value.retry_after_s == 7.0
