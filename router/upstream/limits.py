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


async def split_lines(
    chunks: AsyncIterable[bytes], limit: int, model: str
) -> AsyncIterator[list[bytes]]:
    """The lines of a byte stream (without line ends), one list per chunk that completes
    any: lines that arrived together travel on together. A line over ``limit`` raises."""
    pending = b""
    async for chunk in chunks:
        *lines, pending = (pending + chunk).split(b"\n")
        if len(pending) > limit:
            raise too_large(model, "an event-stream line", limit)
        for line in lines:
            if len(line) > limit:
                raise too_large(model, "an event-stream line", limit)
        if lines:
            yield [line.rstrip(b"\r") for line in lines]
    if pending:
        yield [pending.rstrip(b"\r")]


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
