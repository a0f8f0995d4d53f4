"""Size caps on what an upstream sends back: JSON bodies and SSE lines.

An upstream is not trusted to be small: a 64 MiB body must not be buffered whole, and
one enormous SSE line must not exhaust memory or crash the relay. Both readers here
work on chunks as they arrive and stop as soon as a cap is passed.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from router.errors import UpstreamResponseError

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ResponseLimits:
    """Caps on one upstream response: a whole JSON body, one SSE line."""

    max_body_bytes: int = 16 * MIB
    max_line_bytes: int = 1 * MIB


def too_large(model: str, what: str, limit: int) -> UpstreamResponseError:
    """The error for an upstream answer past a cap (never relayed, never buffered)."""
    return UpstreamResponseError(
        f"Model {model!r} sent {what} larger than the router's limit of {limit} bytes",
        code="upstream_response_too_large",
    )


async def read_capped(
    chunks: AsyncIterable[bytes], limit: int, model: str, declared: int | None = None
) -> bytes:
    """All of ``chunks``, or ``UpstreamResponseError`` as soon as they pass ``limit``."""
    if declared is not None and declared > limit:
        raise too_large(model, "a body", limit)
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise too_large(model, "a body", limit)
        parts.append(chunk)
    return b"".join(parts)


async def split_lines(chunks: AsyncIterable[bytes], limit: int, model: str) -> AsyncIterator[bytes]:
    """The lines of a byte stream (without line ends); a line over ``limit`` raises."""
    pending = bytearray()
    async for chunk in chunks:
        pending += chunk
        start = 0
        while True:
            end = pending.find(b"\n", start)
            if end < 0:
                break
            if end - start > limit:
                raise too_large(model, "an event-stream line", limit)
            yield bytes(pending[start:end]).rstrip(b"\r")
            start = end + 1
        del pending[:start]
        if len(pending) > limit:
            raise too_large(model, "an event-stream line", limit)
    if pending:
        yield bytes(pending).rstrip(b"\r")


async def read_prefix(chunks: AsyncIterable[bytes], limit: int = 64 * 1024) -> bytes:
    """At most ``limit`` bytes from the start of ``chunks`` (for error bodies)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(parts)[:limit]
