"""A minimal OpenAI-compatible upstream that always gives the same answer, as fast as it can.

``bench/overhead.py`` starts it as its own process (``python bench/fixed_upstream.py PORT``)
so that the router's added latency is measured against a server that costs next to
nothing. It is a raw asyncio protocol (uvloop when installed): HTTP/1.1 keep-alive,
``Content-Length`` request bodies, a precomputed JSON answer, or for ``"stream": true`` a
precomputed SSE stream (chunked transfer encoding, one chunk per event, ending with
``data: [DONE]``). Any path is answered the same way.
"""

from __future__ import annotations

import asyncio
import sys

import orjson

MODEL = "bench-fixed"
CONTENT = "This is the fixed answer of the benchmark upstream. It is always the same."
PIECES = CONTENT.split(" ")
USAGE = {"prompt_tokens": 400, "completion_tokens": 16, "total_tokens": 416}


def _http(status: str, content_type: str, body: bytes, *, chunked: bool = False) -> bytes:
    framing = b"transfer-encoding: chunked" if chunked else b"content-length: %d" % len(body)
    head = b"HTTP/1.1 %s\r\ncontent-type: %s\r\n%s\r\n\r\n" % (
        status.encode(),
        content_type.encode(),
        framing,
    )
    return head + body


def plain_response() -> bytes:
    """The whole HTTP response to a non-streaming chat completion."""
    body = {
        "id": "chatcmpl-fixed",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": CONTENT},
                "finish_reason": "stop",
            }
        ],
        "usage": USAGE,
    }
    return _http("200 OK", "application/json", orjson.dumps(body))


def _chunk(delta: dict[str, str], finish: str | None) -> dict[str, object]:
    return {
        "id": "chatcmpl-fixed",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def stream_response() -> bytes:
    """The whole HTTP response to a streaming chat completion, chunked per SSE event."""
    chunks = [_chunk({"role": "assistant", "content": ""}, None)]
    chunks += [_chunk({"content": p + " "}, None) for p in PIECES]
    chunks.append(_chunk({}, "stop"))
    events = [b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks] + [b"data: [DONE]\n\n"]
    framed = b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events) + b"0\r\n\r\n"
    return _http("200 OK", "text/event-stream", framed, chunked=True)


PLAIN = plain_response()
STREAM = stream_response()


class FixedUpstream(asyncio.Protocol):
    """One keep-alive connection; answers every complete request in its buffer."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (request := self._next_request()) is not None:
            streaming = b'"stream":true' in request.replace(b" ", b"")
            self.transport.write(STREAM if streaming else PLAIN)

    def _next_request(self) -> bytes | None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(self.buffer[:end]).lower()
        length = 0
        for line in head.split(b"\r\n"):
            if line.startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        total = end + 4 + length
        if len(self.buffer) < total:
            return None
        body = bytes(self.buffer[end + 4 : total])
        del self.buffer[:total]
        return body


async def serve(port: int) -> None:
    """Listen on 127.0.0.1:``port`` until cancelled."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(FixedUpstream, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    """``python bench/fixed_upstream.py PORT``."""
    port = int(sys.argv[1])
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(port))
    else:
        uvloop.run(serve(port))


if __name__ == "__main__":
    main()
