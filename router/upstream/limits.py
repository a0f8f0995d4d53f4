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
    any: lines that arrived together travel on together. A line over ``limit`` raises.
    A partial line waits in a buffer that only grows (no copy of it per chunk)."""
    pending = bytearray()
    async for chunk in chunks:
        searched = len(pending)  # the partial line before this chunk holds no newline
        pending += chunk
        end = pending.rfind(b"\n", searched)
        if end >= 0:
            lines = bytes(pending[:end]).split(b"\n")
            del pending[: end + 1]
            if any(len(line) > limit for line in lines):
                raise too_large(model, "an event-stream line", limit)
            yield [line.rstrip(b"\r") for line in lines]
        if len(pending) > limit:
            raise too_large(model, "an event-stream line", limit)
    if pending:
        yield [bytes(pending).rstrip(b"\r")]


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
