"""Decoding of a compressed response body, in bounded pieces.

The plain-HTTP client asks for ``accept-encoding: identity``; a server that compresses
anyway (gzip or deflate) is still understood. Each compressed chunk is inflated at most
``PIECE`` bytes at a time, so the router's body and line caps stop a small compressed
body that inflates to gigabytes before it is held in memory.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable, AsyncIterator

PIECE = 64 * 1024
#: zlib window bits: 16 + 15 reads gzip; 32 + 15 detects a zlib or gzip header.
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": 32 + 15}


class UnsupportedCodingError(Exception):
    """A ``content-encoding`` the router cannot decode."""


def decoded(chunks: AsyncIterator[bytes], encoding: str) -> AsyncIterator[bytes]:
    """``chunks`` decoded from ``encoding`` ('' and 'identity': ``chunks`` themselves);
    ``UnsupportedCodingError`` at once for a coding the router cannot read."""
    coding = encoding.strip().lower()
    if coding in ("", "identity"):
        return chunks
    if coding not in _WBITS:
        raise UnsupportedCodingError(coding)
    return _inflated(chunks, coding)


async def _inflated(chunks: AsyncIterable[bytes], coding: str) -> AsyncIterator[bytes]:
    inflater = zlib.decompressobj(_WBITS[coding])
    async for chunk in chunks:
        pending = chunk
        while pending:
            try:
                piece = inflater.decompress(pending, PIECE)
            except zlib.error as error:
                raise UnsupportedCodingError(f"corrupt {coding} body") from error
            pending = inflater.unconsumed_tail
            if piece:
                yield piece
    tail = inflater.flush()
    if tail:
        yield tail
