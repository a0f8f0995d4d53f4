"""One upstream attempt, bounded in time: a whole call, or a stream up to its first chunks.

The transports bound connecting and reading themselves; these wrappers add the bounds
every transport (litellm included) must obey: the total time of a call and the wait
for a stream's first chunk, each already cut to what is left of the request's deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

from router.errors import UpstreamResponseError
from router.upstream.base import ChunkBatch, Endpoint, Payload, Upstream, UpstreamTarget
from router.upstream.wire import timeout_error

#: A stream that has produced its first chunks: that batch and the batches after it.
OpenStream = tuple[ChunkBatch, AsyncIterator[ChunkBatch]]


async def complete_within(
    upstream: Upstream, target: UpstreamTarget, endpoint: Endpoint, body: Payload, left_s: float
) -> Payload:
    """``upstream.complete``, or ``UpstreamTimeoutError`` after ``target.timeout_s`` (cut to
    the ``left_s`` seconds left of the request's deadline)."""
    target = replace(target, timeout_s=min(target.timeout_s, left_s))
    try:
        async with asyncio.timeout(target.timeout_s):
            return await upstream.complete(target, endpoint, body)
    except TimeoutError:
        raise timeout_error(target) from None


async def close_quietly(chunks: AsyncIterator[ChunkBatch]) -> None:
    """Close a stream the caller will never see (its errors are already reported)."""
    close = getattr(chunks, "aclose", None)
    if close is not None:
        try:
            await close()
        except Exception:  # closing a broken stream may raise its error again
            return


async def open_stream(
    upstream: Upstream, target: UpstreamTarget, endpoint: Endpoint, body: Payload, left_s: float
) -> OpenStream:
    """Start a stream and wait (at most ``target.first_byte_s``) for its first chunks.

    Until this returns nothing has reached the caller, so a failure here may still
    fall back to another model. The deadline's ``left_s`` cuts the wait for the first
    chunk, not the waits between later chunks (a long answer may stream past it).
    """
    wait = min(target.first_byte_s, left_s)
    target = replace(
        target, first_byte_timeout_s=wait, connect_timeout_s=min(target.connect_s, wait)
    )
    chunks = upstream.stream(target, endpoint, body).__aiter__()
    try:
        async with asyncio.timeout(target.first_byte_s):
            first = await chunks.__anext__()
    except StopAsyncIteration:
        await close_quietly(chunks)
        raise UpstreamResponseError(f"Model {target.model!r} returned an empty stream") from None
    except TimeoutError:
        await close_quietly(chunks)
        raise timeout_error(target, "send its first token", target.first_byte_s) from None
    except BaseException:
        await close_quietly(chunks)
        raise
    return first, chunks
